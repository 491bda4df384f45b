import express from 'express';
import Router from 'express-promise-router';

/** Liveness of the plugin. The authenticated health summary comes later. */
export function createHealthRoutes(): express.Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return router;
}
