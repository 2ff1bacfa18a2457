import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { IntegrityMonitor } from '../platform/integrity-monitor.js';

/**
 * While the event log fails verification every mutation answers INTEGRITY_BROKEN (the contract's
 * words), whatever its input: runs after the token and role checks (GraphqlAuthGuard) and before
 * the resolver. The command executor's gate refuses the write itself; but a mutation that looks
 * its target up first answered NOT_FOUND or BAD_USER_INPUT for an unknown id or a text too long
 * while others answered INTEGRITY_BROKEN (contract probe of 2026-12-06, M6).
 */
@Injectable()
export class MutationIntegrityGuard implements CanActivate {
  constructor(private readonly integrity: IntegrityMonitor) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType<string>() !== 'graphql') return true;
    const info = GqlExecutionContext.create(context).getInfo<GraphQLResolveInfo>();
    if (info.parentType.name === 'Mutation') this.integrity.assertWritable();
    return true;
  }
}
