/**
 * Prometheus metrics of one Upfront instance (GET /metrics). Each instance has its own registry, not
 * prom-client's global one, so two instances in one process (tests, an embedding app) do not clash.
 * Labels are bounded: the route *pattern* (never the raw path), configured upload route names,
 * error codes and storage operation names.
 */
import type { Counter, Histogram, Registry } from 'prom-client';
// The metric classes alone (~3 ms to load), not prom-client's index, which also loads its default
// collectors and through them @opentelemetry/api: ~25 ms of every start, for code Upfront never runs.
import CounterClass from 'prom-client/lib/counter.js';
import HistogramClass from 'prom-client/lib/histogram.js';
import RegistryClass from 'prom-client/lib/registry.js';

/** Seconds; API calls take milliseconds, storage calls up to seconds (a large copy). */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface UpfrontMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly uploadsCreated: Counter<'route' | 'strategy'>;
  readonly uploadsCompleted: Counter<'route'>;
  readonly uploadsRejected: Counter<'route' | 'reason'>;
  readonly bytesPromoted: Counter<'route'>;
  readonly storageDuration: Histogram<'operation' | 'outcome'>;
  readonly storageEvents: Counter<'outcome'>;
  readonly sweeperActions: Counter<'action'>;
  readonly processorRuns: Counter<'processor' | 'outcome'>;
  readonly webhookDeliveries: Counter<'route' | 'outcome'>;
}

export function createMetrics(): UpfrontMetrics {
  const registry = new RegistryClass();
  const registers = [registry];
  return {
    registry,
    httpRequests: new CounterClass({
      name: 'upfront_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new HistogramClass({
      name: 'upfront_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    uploadsCreated: new CounterClass({
      name: 'upfront_uploads_created_total',
      help: 'Uploads created (signed), by upload route and strategy.',
      labelNames: ['route', 'strategy'],
      registers,
    }),
    uploadsCompleted: new CounterClass({
      name: 'upfront_uploads_completed_total',
      help: 'Uploads verified, promoted and recorded as files, by upload route.',
      labelNames: ['route'],
      registers,
    }),
    uploadsRejected: new CounterClass({
      name: 'upfront_uploads_rejected_total',
      help: 'Uploads refused at create or rejected at verification, by upload route and reason (the error code).',
      labelNames: ['route', 'reason'],
      registers,
    }),
    bytesPromoted: new CounterClass({
      name: 'upfront_bytes_promoted_total',
      help: 'Bytes of verified files promoted to the public and private buckets, by upload route.',
      labelNames: ['route'],
      registers,
    }),
    webhookDeliveries: new CounterClass({
      name: 'upfront_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by upload route and outcome (delivered, failed and retried later, or dead-lettered).',
      labelNames: ['route', 'outcome'],
      registers,
    }),
    processorRuns: new CounterClass({
      name: 'upfront_processor_runs_total',
      help: 'Runs of route processors, by processor name and outcome (ok, rejected, timeout, failed).',
      labelNames: ['processor', 'outcome'],
      registers,
    }),
    storageEvents: new CounterClass({
      name: 'upfront_storage_events_total',
      help: 'Records of storage events the hook received, by outcome (completed, rejected, ignored, refused, failed; unauthorized and malformed requests count once).',
      labelNames: ['outcome'],
      registers,
    }),
    storageDuration: new HistogramClass({
      name: 'upfront_storage_request_duration_seconds',
      help: 'Time of calls to storage, by operation and outcome (ok or error).',
      labelNames: ['operation', 'outcome'],
      buckets: STORAGE_BUCKETS,
      registers,
    }),
    sweeperActions: new CounterClass({
      name: 'upfront_sweeper_actions_total',
      help: 'What the sweeper did, by action (expired, finalized, healed, staged_deleted, orphan_deleted, …; see sweeper/report.ts).',
      labelNames: ['action'],
      registers,
    }),
  };
}
