import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, TextLimit } from '../../graphql/input-limits.js';
import { ConnectionType } from '../../graphql/pagination.js';
import { ASSET_CATEGORIES, SECURITY_PROPERTIES, type AssetCategory, type AssetStatus, type SecurityProperty } from '../domain/asset.state.js';

export const AssetStatusEnum = { ACTIVE: 'ACTIVE', RETIRED: 'RETIRED' } as const;
registerEnumType(AssetStatusEnum, { name: 'AssetStatus' });
export const SecurityPropertyEnum = Object.fromEntries(SECURITY_PROPERTIES.map((p) => [p, p])) as Record<SecurityProperty, SecurityProperty>;
registerEnumType(SecurityPropertyEnum, { name: 'SecurityProperty', description: 'Confidentiality, integrity, availability (Art. 14(2))' });
export const AssetCategoryEnum = Object.fromEntries(ASSET_CATEGORIES.map((c) => [c, c])) as Record<AssetCategory, AssetCategory>;
registerEnumType(AssetCategoryEnum, { name: 'AssetCategory' });

@ObjectType()
export class Vulnerability {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() description!: string;
  @Field() identifiedAt!: string;
  @Field(() => ID) identifiedBy!: string;
}

@ObjectType()
export class Threat {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() description!: string;
  @Field(() => [SecurityPropertyEnum]) affects!: SecurityProperty[];
  @Field(() => [Vulnerability]) vulnerabilities!: Vulnerability[];
  @Field() identifiedAt!: string;
  @Field(() => ID) identifiedBy!: string;
}

@ObjectType({ description: 'An information asset of the inventory (Art. 14(2)).' })
export class Asset {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: 'Revision of the asset\'s last event: pass it back as expectedVersion.' }) version!: number;
  @Field() name!: string;
  @Field() description!: string;
  @Field(() => AssetCategoryEnum) category!: AssetCategory;
  @Field() department!: string;
  @Field(() => ID) managerId!: string;
  @Field(() => Int) confidentiality!: number;
  @Field(() => Int) integrity!: number;
  @Field(() => Int) availability!: number;
  @Field(() => Int, { description: 'max(confidentiality, integrity, availability)' }) value!: number;
  @Field(() => AssetStatusEnum) status!: AssetStatus;
  @Field(() => [Threat]) threats!: Threat[];
  @Field() registeredAt!: string;
  @Field(() => ID) registeredBy!: string;
  @Field() updatedAt!: string;
  @Field(() => String, { nullable: true }) retiredAt?: string;
  @Field(() => String, { nullable: true }) retirementReason?: string;
}

export const AssetConnection = ConnectionType(Asset, 'Asset');

@InputType()
export class RegisterAssetInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Idempotency key: a retry with the same commandId returns the first result.' }) commandId?: string;
  @NameLimit() @Field() name!: string;
  @TextLimit() @Field({ nullable: true }) description?: string;
  @Field(() => AssetCategoryEnum) category!: AssetCategory;
  @NameLimit() @Field() department!: string;
  @IdLimit() @Field(() => ID) managerId!: string;
  @Field(() => Int) confidentiality!: number;
  @Field(() => Int) integrity!: number;
  @Field(() => Int) availability!: number;
}

@InputType()
export class IdentifyThreatInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) assetId!: string;
  @NameLimit() @Field() name!: string;
  @TextLimit() @Field({ nullable: true }) description?: string;
  @ListLimit() @Field(() => [SecurityPropertyEnum]) affects!: SecurityProperty[];
}

@InputType()
export class IdentifyVulnerabilityInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) assetId!: string;
  @IdLimit() @Field(() => ID) threatId!: string;
  @NameLimit() @Field() name!: string;
  @TextLimit() @Field({ nullable: true }) description?: string;
}

@InputType()
export class ReassignAssetManagerInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) assetId!: string;
  @IdLimit() @Field(() => ID) managerId!: string;
}

@InputType()
export class RetireAssetInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) assetId!: string;
  @TextLimit() @Field() reason!: string;
}
