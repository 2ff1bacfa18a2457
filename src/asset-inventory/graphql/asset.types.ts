import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, TextLimit, VersionLimit } from '../../graphql/input-limits.js';
import { COMMAND_ID_DESCRIPTION, EXPECTED_VERSION_DESCRIPTION } from '../../graphql/descriptions.js';
import { ConnectionType } from '../../graphql/pagination.js';
import { ASSET_CATEGORIES, SECURITY_PROPERTIES, type AssetCategory, type AssetStatus, type SecurityProperty } from '../domain/asset.state.js';
import { ASSET_DESCRIPTION_MAX_LENGTH } from '../domain/asset.decider.js';

const RATING = 'Rating from 1 (low) to 3 (high)';

export const AssetStatusEnum = { ACTIVE: 'ACTIVE', RETIRED: 'RETIRED' } as const;
registerEnumType(AssetStatusEnum, {
  name: 'AssetStatus',
  description: 'Whether an asset is still in the inventory (Art. 14(2)).',
  valuesMap: {
    ACTIVE: { description: 'In the inventory: threats, vulnerabilities and risks may be recorded against it.' },
    RETIRED: {
      description:
        'Retired by retireAsset or by an AVOID treatment (Art. 17): kept for history, its name freed in its department; every further change is refused with rule ASSET_RETIRED.',
    },
  },
});

export const SecurityPropertyEnum = Object.fromEntries(SECURITY_PROPERTIES.map((p) => [p, p])) as Record<SecurityProperty, SecurityProperty>;
registerEnumType(SecurityPropertyEnum, {
  name: 'SecurityProperty',
  description: "A security property of an asset (Art. 14(2)); each is rated 1..3 and a threat names the ones it affects.",
  valuesMap: {
    CONFIDENTIALITY: { description: 'Confidentiality: only those entitled can see the asset.' },
    INTEGRITY: { description: 'Integrity: the asset is accurate and complete.' },
    AVAILABILITY: { description: 'Availability: the asset can be used when needed.' },
  },
});

export const AssetCategoryEnum = Object.fromEntries(ASSET_CATEGORIES.map((c) => [c, c])) as Record<AssetCategory, AssetCategory>;
registerEnumType(AssetCategoryEnum, {
  name: 'AssetCategory',
  description: 'The kind of information asset (Art. 14(2) inventory).',
  valuesMap: {
    INFORMATION: { description: 'Information or data, such as customer records or private keys.' },
    SYSTEM: { description: 'An information system made of several components.' },
    SOFTWARE: { description: 'Software: applications, packages, firmware.' },
    HARDWARE: { description: 'Hardware: servers, network devices, hardware security modules.' },
    SERVICE: { description: 'A service, internal or outsourced (cloud, network, custody).' },
    PEOPLE: { description: 'People and their skills or knowledge.' },
    PAPER: { description: 'Paper documents and other physical media.' },
  },
});

@ObjectType({ description: 'A vulnerability of an asset under one threat (Art. 14(2)): a weakness the threat can exploit.' })
export class Vulnerability {
  @Field(() => ID, { description: 'Server-assigned id (a UUID), unique within the asset.' }) id!: string;
  @Field({ description: 'Short name, unique (after Unicode NFKC normalisation, case-insensitive) under its threat.' }) name!: string;
  @Field({ description: 'Free text; empty when none was given.' }) description!: string;
  @Field({ description: 'When it was identified: ISO 8601 date-time in UTC.' }) identifiedAt!: string;
  @Field(() => ID, { description: 'User id (JWT sub) of who identified it.' }) identifiedBy!: string;
}

@ObjectType({ description: 'A threat to an asset (Art. 14(2)), with the security properties it affects and its vulnerabilities.' })
export class Threat {
  @Field(() => ID, { description: 'Server-assigned id (a UUID), unique within the asset; pass it as identifyVulnerability.threatId or identifyRisk.threatId.' }) id!: string;
  @Field({ description: 'Short name, unique (after Unicode NFKC normalisation, case-insensitive) among the asset\'s threats.' }) name!: string;
  @Field({ description: 'Free text; empty when none was given.' }) description!: string;
  @Field(() => [SecurityPropertyEnum], {
    description: "The security properties it affects, in the order CONFIDENTIALITY, INTEGRITY, AVAILABILITY; a detailed analysis values the asset by the highest of these ratings.",
  })
  affects!: SecurityProperty[];
  @Field(() => [Vulnerability], { description: 'Its vulnerabilities, in order of identification.' }) vulnerabilities!: Vulnerability[];
  @Field({ description: 'When it was identified: ISO 8601 date-time in UTC.' }) identifiedAt!: string;
  @Field(() => ID, { description: 'User id (JWT sub) of who identified it.' }) identifiedBy!: string;
}

@ObjectType({ description: 'An information asset of the inventory (Art. 14(2)): its value, manager, threats and vulnerabilities.' })
export class Asset {
  @Field(() => ID, { description: 'Server-assigned id (a UUID); history(id) lists its events.' }) id!: string;
  @Field(() => Int, { description: "Revision of the asset's last event: pass it back as expectedVersion." }) version!: number;
  @Field({ description: 'Name, 1 to 200 characters, unique among the active assets of its department after Unicode NFKC normalisation and trimming.' }) name!: string;
  @Field({ description: 'Free text; empty when none was given.' }) description!: string;
  @Field(() => AssetCategoryEnum, { description: 'What kind of asset it is.' }) category!: AssetCategory;
  @Field({ description: 'Department that holds it, as spelt when registered; an ASSET_MANAGER acts only on assets of the department in their token (departments compared as names are: after Unicode NFKC normalisation, trimming and case folding).' }) department!: string;
  @Field(() => ID, { description: 'User id (JWT sub) of its information manager (Art. 9).' }) managerId!: string;
  @Field(() => Int, { description: `${RATING} of confidentiality.` }) confidentiality!: number;
  @Field(() => Int, { description: `${RATING} of integrity.` }) integrity!: number;
  @Field(() => Int, { description: `${RATING} of availability.` }) availability!: number;
  @Field(() => Int, { description: 'Asset value 1..3: the highest of confidentiality, integrity and availability.' }) value!: number;
  @Field(() => AssetStatusEnum, { description: 'ACTIVE or RETIRED.' }) status!: AssetStatus;
  /** Its threats, with their vulnerabilities: a field of its own, charged to the request's result budget (AssetResolver.threats). */
  threats!: Threat[];
  @Field({ description: 'When it was registered: ISO 8601 date-time in UTC.' }) registeredAt!: string;
  @Field(() => ID, { description: 'User id (JWT sub) of who registered it.' }) registeredBy!: string;
  @Field({ description: 'When its last event was recorded: ISO 8601 date-time in UTC.' }) updatedAt!: string;
  @Field(() => String, { nullable: true, description: 'When it was retired (ISO 8601 date-time in UTC); null while ACTIVE.' }) retiredAt?: string;
  @Field(() => String, { nullable: true, description: 'Why it was retired; null while ACTIVE.' }) retirementReason?: string;
}

export const AssetConnection = ConnectionType(Asset, 'Asset');

@InputType({ description: 'Input of registerAsset (Art. 14(2)).' })
export class RegisterAssetInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @NameLimit() @Field({ description: 'Name, 1 to 200 characters; taken by another active asset of the department (after Unicode NFKC normalisation and trimming): rule ASSET_NAME_TAKEN.' }) name!: string;
  @TextLimit() @Field({ nullable: true, description: `Free text, at most ${ASSET_DESCRIPTION_MAX_LENGTH.toLocaleString('en')} characters; empty when omitted.` }) description?: string;
  @Field(() => AssetCategoryEnum, { description: 'What kind of asset it is.' }) category!: AssetCategory;
  @NameLimit() @Field({ description: "Department that holds it, 1 to 200 characters, kept as spelt; an ASSET_MANAGER may only name the department in their token (else FORBIDDEN), compared as names are (after Unicode NFKC normalisation, trimming and case folding: OPS is ops)." }) department!: string;
  @IdLimit() @Field(() => ID, { description: 'User id (JWT sub) of its information manager (Art. 9).' }) managerId!: string;
  @Field(() => Int, { description: `${RATING} of confidentiality; outside it BAD_USER_INPUT.` }) confidentiality!: number;
  @Field(() => Int, { description: `${RATING} of integrity; outside it BAD_USER_INPUT.` }) integrity!: number;
  @Field(() => Int, { description: `${RATING} of availability; outside it BAD_USER_INPUT.` }) availability!: number;
}

@InputType({ description: 'Input of identifyThreat (Art. 14(2)).' })
export class IdentifyThreatInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The asset (Asset.id); unknown: NOT_FOUND.' }) assetId!: string;
  @NameLimit() @Field({
    description:
      "Name, 1 to 200 characters. The same name with the same properties and description again changes nothing; with other properties or another description it is rule THREAT_NAME_NOT_UNIQUE.",
  })
  name!: string;
  @TextLimit() @Field({ nullable: true, description: `Free text, at most ${ASSET_DESCRIPTION_MAX_LENGTH.toLocaleString('en')} characters; empty when omitted.` }) description?: string;
  @ListLimit() @Field(() => [SecurityPropertyEnum], { description: 'The security properties it affects: at least one, no duplicates.' }) affects!: SecurityProperty[];
}

@InputType({ description: 'Input of identifyVulnerability (Art. 14(2)).' })
export class IdentifyVulnerabilityInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The asset (Asset.id); unknown: NOT_FOUND.' }) assetId!: string;
  @IdLimit() @Field(() => ID, { description: 'The threat of that asset (Threat.id) the vulnerability belongs to; unknown: NOT_FOUND.' }) threatId!: string;
  @NameLimit() @Field({ description: 'Name, 1 to 200 characters; a name the threat already has, with the same description, changes nothing; with another description it is rule VULNERABILITY_NAME_NOT_UNIQUE.' }) name!: string;
  @TextLimit() @Field({ nullable: true, description: `Free text, at most ${ASSET_DESCRIPTION_MAX_LENGTH.toLocaleString('en')} characters; empty when omitted.` }) description?: string;
}

@InputType({ description: 'Input of reassignAssetManager (Art. 9, 14(2)).' })
export class ReassignAssetManagerInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The asset (Asset.id); unknown: NOT_FOUND.' }) assetId!: string;
  @IdLimit() @Field(() => ID, { description: 'User id (JWT sub) of the new information manager; the current one changes nothing.' }) managerId!: string;
}

@InputType({ description: 'Input of retireAsset (Art. 14(2)).' })
export class RetireAssetInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The asset (Asset.id); unknown: NOT_FOUND.' }) assetId!: string;
  @TextLimit() @Field({ description: `Why it leaves the inventory, 1 to ${ASSET_DESCRIPTION_MAX_LENGTH.toLocaleString('en')} characters.` }) reason!: string;
}
