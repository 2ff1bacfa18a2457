import { ConfigModule, registerAs } from '@nestjs/config';
import type { DynamicModule, Provider } from '@nestjs/common';
import { APP_CONFIG, loadConfig, type AppConfig } from './app-config.js';

/**
 * The configuration as a @nestjs/config namespace ('app'): validated against the schema
 * (settings.ts) when the application is created, so that a process (or a test) that sets its
 * environment before creating the application gets that environment. Not `ConfigModule.forRoot({
 * validate })`: that validates when the root module is imported, and writes back into process.env.
 * The same `loadConfig` serves the command-line tools, which start no Nest application.
 */
export const appConfig = registerAs('app', (): AppConfig => loadConfig(process.env));

/** The module that reads it (ConfigService.get('app') works too). */
export function configModule(): DynamicModule {
  return ConfigModule.forFeature(appConfig);
}

/** APP_CONFIG, the token the code injects, is the namespace's value. */
export const appConfigProvider: Provider = { provide: APP_CONFIG, inject: [appConfig.KEY], useFactory: (config: AppConfig) => config };
