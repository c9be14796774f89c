import type { Hono } from 'hono';
import type { QuotaLimits } from '../config.ts';
import type { Env } from '../http/context.ts';
import type { UsageJson } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const limits = (quota: QuotaLimits | undefined) => ({ bytes: quota?.bytes ?? null, files: quota?.files ?? null });

/** GET /v1/usage: the user's usage and limits, every route listed (unused ones at zero). */
export function usageRoutes(app: Hono<Env>, services: Services): void {
  app.get('/v1/usage', async (c) => {
    const { config, store } = services;
    const usage = await store.getUsage(c.get('user').id);
    const none = { bytes: 0, files: 0, reservedBytes: 0, reservedFiles: 0 };
    const json: UsageJson = {
      ...usage.total,
      limits: limits(config.quotas.perUser),
      routes: [...config.routes.values()].map((route) => ({ route: route.name, ...(usage.routes.get(route.name) ?? none), limits: limits(route.quota) })),
      createsPerMinute: config.quotas.createsPerMinute || null,
    };
    return c.json(json);
  });
}
