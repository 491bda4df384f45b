import {
  coreServices,
  createServiceFactory,
  LoggerService,
  RootLoggerService,
} from '@backstage/backend-plugin-api';

/** Every line any plugin logged, with its fields, for "no secret in a log" checks. */
export function createCapturingRootLogger() {
  const lines: string[] = [];
  const make = (fields: Record<string, unknown>): RootLoggerService => {
    const write =
      (level: string) =>
      (message: string, meta?: Error | Record<string, unknown>) => {
        const extra =
          meta instanceof Error
            ? `${meta.name}: ${meta.message} ${meta.stack ?? ''}`
            : JSON.stringify(meta ?? {});
        lines.push(`${level} ${JSON.stringify(fields)} ${message} ${extra}`);
      };
    const logger: LoggerService & RootLoggerService = {
      error: write('error'),
      warn: write('warn'),
      info: write('info'),
      debug: write('debug'),
      child: (more: Record<string, unknown>) => make({ ...fields, ...more }),
    };
    return logger;
  };
  const factory = createServiceFactory({
    service: coreServices.rootLogger,
    deps: {},
    factory: () => make({}),
  });
  return { factory, lines };
}
