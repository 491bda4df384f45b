import { LoggerService } from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { createHealthRoutes } from './health/createHealthRoutes';

export interface RouterOptions {
  logger: LoggerService;
}

/** Mounts the routes of every domain; the domains own their handlers. */
export async function createRouter(
  _options: RouterOptions,
): Promise<express.Router> {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));
  router.use(createHealthRoutes());
  return router;
}
