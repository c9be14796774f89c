/**
 * How `upfront upload` shows what it does: progress bars per file and in total (cli-progress) on a
 * terminal, one line per event when stdout is a pipe or a file, or nothing but one JSON document at the
 * end with --json.
 */
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import type { UploadedFile } from '@upfront/client';
import type { FileResult } from './upload.ts';

export interface Reporter {
  started(index: number): void;
  progress(index: number, loaded: number): void;
  done(index: number, file: UploadedFile): void;
  failed(index: number, error: { code: string; detail: string }): void;
  paused(index: number): void;
  finish(results: FileResult[]): void;
}

export function createReporter(kind: 'bars' | 'lines' | 'json', paths: string[], sizes: number[]): Reporter {
  if (kind === 'bars') return barsReporter(paths, sizes);
  if (kind === 'lines') return linesReporter(paths, sizes);
  return {
    started() {},
    progress() {},
    done() {},
    failed() {},
    paused() {},
    finish(results) {
      process.stdout.write(`${JSON.stringify({ files: results }, null, 2)}\n`);
    },
  };
}

function linesReporter(paths: string[], sizes: number[]): Reporter {
  const say = (index: number, text: string) => process.stdout.write(`${paths[index]}: ${text}\n`);
  // A line each time a file passes another tenth, so a log shows a long upload moving.
  const tenths = paths.map(() => 0);
  return {
    started: (index) => say(index, `uploading ${formatBytes(sizes[index]!)}`),
    progress(index, loaded) {
      const tenth = Math.floor((loaded / sizes[index]!) * 10);
      if (tenth > tenths[index]! && tenth < 10) {
        tenths[index] = tenth;
        say(index, `${tenth * 10} % (${formatBytes(loaded)} of ${formatBytes(sizes[index]!)})`);
      }
    },
    done: (index, file) => say(index, `uploaded ${file.url}`),
    failed: (index, error) => say(index, `failed: ${error.detail} (${error.code})`),
    paused: (index) => say(index, 'paused; run the same command again to resume'),
    finish: (results) => process.stdout.write(`${summary(results)}\n`),
  };
}

function barsReporter(paths: string[], sizes: number[]): Reporter {
  const multibar = new cliProgress.MultiBar(
    {
      format: '{name} {bar} {percentage}% | {done} of {size} | {speed} | ETA {eta_formatted}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.min(28, Math.max(...paths.map((path) => basename(path).length), 'total'.length));
  const label = (text: string) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const meters = new Map<number, Speed>();
  const bars = new Map<number, cliProgress.SingleBar>();
  const loaded = sizes.map(() => 0);
  const totalSpeed = speedometer();
  const totalBar = sizes.length > 1 ? multibar.create(total, 0, payload('total', 0, total, totalSpeed)) : undefined;

  function payload(name: string, done: number, size: number, speed: Speed) {
    return { name: label(name), done: formatBytes(done), size: formatBytes(size), speed: `${formatBytes(speed.rate())}/s` };
  }
  function update(index: number, value: number) {
    loaded[index] = value;
    const meter = meters.get(index)!;
    meter.add(value);
    bars.get(index)?.update(value, payload(basename(paths[index]!), value, sizes[index]!, meter));
    const sum = loaded.reduce((a, b) => a + b, 0);
    totalSpeed.add(sum);
    totalBar?.update(sum, payload('total', sum, total, totalSpeed));
  }
  return {
    started(index) {
      meters.set(index, speedometer());
      bars.set(index, multibar.create(sizes[index]!, 0, payload(basename(paths[index]!), 0, sizes[index]!, meters.get(index)!)));
    },
    progress: update,
    done: (index) => update(index, sizes[index]!),
    failed: (index, error) => multibar.log(`${paths[index]}: failed: ${error.detail} (${error.code})\n`),
    paused: () => undefined,
    finish(results) {
      multibar.stop();
      for (const result of results) if (result.status === 'uploaded') process.stdout.write(`${result.path}: ${result.file!.url}\n`);
      process.stdout.write(`${summary(results)}\n`);
    },
  };
}

interface Speed {
  add(loaded: number): void;
  /** Bytes per second over the last few seconds. */
  rate(): number;
}

function speedometer(windowMs = 3000): Speed {
  const samples: [number, number][] = [];
  return {
    add(loaded) {
      const now = performance.now();
      samples.push([now, loaded]);
      while (samples.length > 2 && now - samples[0]![0] > windowMs) samples.shift();
    },
    rate() {
      if (samples.length < 2) return 0;
      const [t0, b0] = samples[0]!;
      const [t1, b1] = samples.at(-1)!;
      return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
    },
  };
}

function summary(results: FileResult[]): string {
  const count = (status: FileResult['status']) => results.filter((result) => result.status === status).length;
  const parts = [`${count('uploaded')} uploaded`];
  if (count('failed')) parts.push(`${count('failed')} failed`);
  if (count('paused')) parts.push(`${count('paused')} paused (run the same command again to resume)`);
  return parts.join(', ');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
