import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { ConnectionType } from '../../graphql/pagination.js';

@ObjectType({ description: 'The authenticated user, as the bearer token names them.' })
export class Actor {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => [String]) roles!: string[];
  @Field(() => String, { nullable: true }) department?: string;
}

@ObjectType()
export class EventActor {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => [String]) roles!: string[];
}

@ObjectType()
export class EventMetadataType {
  @Field(() => EventActor) actor!: EventActor;
  @Field(() => [String], { description: "The actor's roles when the event was recorded." }) roles!: string[];
  @Field() occurredAt!: string;
  @Field() correlationId!: string;
  @Field() causationId!: string;
  @Field(() => String, { nullable: true }) commandId?: string;
}

@ObjectType('RecordedEvent', { description: 'An event as stored: immutable, hash-chained to the previous event of its stream.' })
export class RecordedEventType {
  @Field({ description: 'Opaque, ordered position in the global log.' }) position!: string;
  @Field(() => ID) eventId!: string;
  @Field(() => ID) streamId!: string;
  @Field(() => Int) revision!: number;
  @Field() type!: string;
  @Field(() => Int) schemaVersion!: number;
  @Field(() => GraphQLJSON) data!: unknown;
  @Field(() => EventMetadataType) metadata!: EventMetadataType;
  @Field() recordedAt!: string;
  @Field() prevHash!: string;
  @Field() hash!: string;
}

export const EventConnection = ConnectionType(RecordedEventType, 'Event');
