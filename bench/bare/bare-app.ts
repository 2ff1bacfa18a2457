/**
 * The e2e benchmark's baseline (bench/e2e.bench.ts): a bare NestJS 12 + Apollo 5 application with
 * the same versions, the same HS256 bearer-token check with jose, and a `registerAsset`-shaped
 * mutation (and an `analyseRisk`-shaped one) writing to a Map. No event store, no projections,
 * no access log: what the framework alone costs per request. Run as its own process:
 * `node dist/bench/bare/bare-app.js`; JWT_SECRET is required; prints {"url": …} once serving.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module, Injectable, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, Field, GqlExecutionContext, GraphQLModule, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { jwtVerify } from 'jose';

const secret = process.env.JWT_SECRET;
if (!secret) throw new Error('JWT_SECRET is required');
const key = new TextEncoder().encode(secret);

interface Ctx {
  authorization?: string;
  actor?: { id: string; roles: string[] };
}

/** Verifies `Authorization: Bearer <HS256 JWT>` as the application does (jose, exp required). */
@Injectable()
class BearerGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ctx = GqlExecutionContext.create(context).getContext<Ctx>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.authorization ?? '');
    if (!match) return false;
    const { payload } = await jwtVerify(match[1]!, key, { algorithms: ['HS256'], requiredClaims: ['exp'], clockTolerance: 30 });
    ctx.actor = { id: String(payload.sub), roles: (payload.roles as string[]) ?? [] };
    return true;
  }
}

@InputType()
class RegisterAssetInput {
  @Field() name!: string;
  @Field() category!: string;
  @Field() department!: string;
  @Field() managerId!: string;
  @Field(() => Int) confidentiality!: number;
  @Field(() => Int) integrity!: number;
  @Field(() => Int) availability!: number;
}

@ObjectType()
class Asset {
  @Field(() => ID) id!: string;
  @Field(() => Int) version!: number;
  @Field(() => Int) value!: number;
  @Field() status!: string;
}

@InputType()
class InformalInput {
  @Field(() => Int) likelihood!: number;
  @Field(() => Int) impact!: number;
  @Field() expert!: string;
  @Field() rationale!: string;
}

@InputType()
class AnalyseRiskInput {
  @Field(() => ID) riskId!: string;
  @Field() method!: string;
  @Field(() => InformalInput) informal!: InformalInput;
}

@ObjectType()
class Risk {
  @Field(() => ID) id!: string;
  @Field(() => Int) version!: number;
  @Field() status!: string;
  @Field(() => Int, { nullable: true }) likelihood?: number;
  @Field(() => Int, { nullable: true }) impact?: number;
}

const assets = new Map<string, Asset>();
const risks = new Map<string, Risk>();

@Resolver()
@UseGuards(BearerGuard)
class BareResolver {
  @Query(() => Int)
  assetCount(): number {
    return assets.size;
  }

  @Mutation(() => Asset)
  registerAsset(@Args('input') input: RegisterAssetInput): Asset {
    const asset: Asset = { id: randomUUID(), version: 0, value: Math.max(input.confidentiality, input.integrity, input.availability), status: 'ACTIVE' };
    assets.set(asset.id, asset);
    return asset;
  }

  @Mutation(() => Risk)
  analyseRisk(@Args('input') input: AnalyseRiskInput): Risk {
    const before = risks.get(input.riskId);
    const risk: Risk = { id: input.riskId, version: (before?.version ?? -1) + 1, status: 'ANALYSED', likelihood: input.informal.likelihood, impact: input.informal.impact };
    risks.set(risk.id, risk);
    return risk;
  }
}

@Module({
  imports: [
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      path: '/graphql',
      playground: false,
      introspection: false,
      includeStacktraceInErrorResponses: false,
      context: ({ req }: { req: { headers: Record<string, string | undefined> } }): Ctx => ({ authorization: req.headers.authorization }),
    }),
  ],
  providers: [BareResolver, BearerGuard],
})
class BareModule {}

const app = await NestFactory.create(BareModule, { logger: ['error'] });
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
console.log(JSON.stringify({ msg: 'bare app is serving', url: `http://127.0.0.1:${port}/graphql` }));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
