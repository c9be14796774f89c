#!/usr/bin/env node
/**
 * upfront: one command for running Upfront and for uploading through it. Each command loads only its
 * own code: `upload` never loads the server.
 */
import { UsageError } from './usage.ts';

const USAGE = `Usage: upfront <command> [options]

Commands:
  dev      Run everything locally: API, disk storage, SQLite, dev sign-in and the web page
  serve    Run the API (production config: upfront.config.json + environment)
  upload   Upload files through an Upfront API: upfront upload <files…> --route <name>
  setup    Provision the S3 buckets the configuration describes (CORS, lifecycle, policies, versioning)
  doctor   Check the live storage setup (endpoint, clock, credential, buckets, CORS, uploads, anonymous reads)
  sweep    Sweep once: finish, expire and clean up what uploads and crashes left (--json for JSON)
  policy   Print the least-privilege IAM policies of the API's credential and of setup's admin credential
  site     Deploy a built front end to the website bucket: upfront site deploy [dir]
  cdn      Print an nginx configuration that serves the public bucket as a caching CDN: upfront cdn nginx
  webhooks List undelivered webhook events, or send dead ones again: upfront webhooks list|retry
  lambda   Build an AWS Lambda deployment (zip + SAM template): upfront lambda build

Options of dev and serve:
  --port <n>      Port to listen on (default: $PORT or 3000)
  --host <addr>   Address to bind (default: 127.0.0.1 for dev, 0.0.0.0 for serve)
  --public-url    URL browsers reach this server at (default: http://localhost:<port>)
  --unsafe-dev-sign-in
                  serve only: turn the dev issuer on in production, so anyone can sign in as
                  any user. For throwaway demos; warned about at every start.

Options of upload:
  --route <name>        The server's route to upload under (required)
  --api <url>           The Upfront API (default: $UPFRONT_API or http://localhost:3000)
  --token <jwt>         Your bearer token (default: $UPFRONT_TOKEN)
  --dev-user <name>     Get a token from a dev server's dev sign-in instead
  --type <mime>         The files' MIME type (default: from each file's extension)
  --concurrency <n>     Files uploaded at once (default 2)
  --part-concurrency <n>  Parts of one file sent at once (default 4)
  --json                Print one JSON document with the results, no progress
  Ctrl-C pauses; running the same command again resumes where it stopped.
  Exit codes: 0 all uploaded, 1 some failed, 2 usage error, 130 paused by Ctrl-C.

Options of setup (reads upfront.config.json and the S3_* environment, like serve):
  --dry-run             Print the plan, change nothing
  --json                Print the plan (and whether it was applied) as JSON
  Uses S3_ADMIN_ACCESS_KEY_ID / S3_ADMIN_SECRET_ACCESS_KEY instead of the API's credential when set.
  Exit codes: 0 done (or nothing to change), 1 storage refused a change, 2 usage error.

Options of doctor (same configuration as setup):
  --json                Print the findings as JSON
  Exit codes: 0 nothing fails (warnings allowed), 1 something fails, 2 usage error.

Options of policy (same configuration as setup):
  --json                Print the API credential's policy alone, as JSON (ready for PutUserPolicy)
  --admin               The admin credential's policy (setup, doctor) instead

Options of site deploy (same configuration as setup; the site bucket is S3_BUCKET_SITE, its URL S3_SITE_URL):
  [dir]                 The built front end (default: the demo app this package ships)
  --api <url>           The Upfront API's URL, written into each page's <meta name="upfront-api">
  --oidc-issuer <url> --oidc-client-id <id>
                        The OpenID Connect provider pages sign in with (<meta name="upfront-oidc-…">)
  --json                Print the deployed files as JSON
  Exit codes: 0 deployed, 1 storage refused, 2 usage error.

Options of cdn nginx (same configuration as setup; S3_CDN_SECRET is sent to the bucket as Referer):
  --listen <port>       nginx's listen (default 80)
  --server-name <name>  nginx's server_name (default _)
  --cache-dir <dir>     Where nginx caches files (default /var/cache/nginx/upfront)
  --max-age <seconds>   How long a file is cached, by nginx and browsers (default 3600)

Options of webhooks (reads the database of the configuration, like serve):
  list [--dead] [--json]  Pending and dead events (--dead: dead ones only), newest first
  retry <id>            Send a dead (or waiting) event again, with a fresh count of attempts
  retry --all-dead      Send every dead event again
  Exit codes: 0 done, 1 no such (undelivered) event, 2 usage or configuration error.

Options of lambda build (same configuration as serve; S3 storage and PostgreSQL only):
  --out <dir>           Where upfront-lambda.zip and template.json go (default ./lambda)
  Then: sam deploy --guided (in that directory). Exit codes: 0 written, 2 usage or configuration error.

  -h, --help      Show this help
`;

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    process.exit(command === undefined ? 2 : 0);
  }
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (command === 'dev' || command === 'serve') {
    const { runServer } = await import('./run-server.ts');
    return runServer(command, args);
  }
  if (command === 'setup') {
    const { runSetup } = await import('./setup.ts');
    process.exitCode = await runSetup(args);
    return;
  }
  if (command === 'doctor') {
    const { runDoctor } = await import('./doctor.ts');
    process.exitCode = await runDoctor(args);
    return;
  }
  if (command === 'sweep') {
    const { runSweep } = await import('./sweep.ts');
    process.exitCode = await runSweep(args);
    return;
  }
  if (command === 'policy') {
    const { runPolicy } = await import('./policy.ts');
    process.exitCode = runPolicy(args);
    return;
  }
  if (command === 'site') {
    const { runSite } = await import('./site.ts');
    process.exitCode = await runSite(args);
    return;
  }
  if (command === 'cdn') {
    const { runCdn } = await import('./cdn.ts');
    process.exitCode = runCdn(args);
    return;
  }
  if (command === 'webhooks') {
    const { runWebhooks } = await import('./webhooks.ts');
    process.exitCode = await runWebhooks(args);
    return;
  }
  if (command === 'lambda') {
    const { runLambda } = await import('./lambda-build.ts');
    process.exitCode = await runLambda(args);
    return;
  }
  if (command === 'upload') {
    const { runUpload } = await import('./upload.ts');
    process.exitCode = await runUpload(args);
    return;
  }
  throw new UsageError(`unknown command "${command}"; run "upfront --help"`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`upfront: ${(error as Error).message}`);
    process.exit(2);
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error('upfront: the port is already in use; pick another with --port or PORT.');
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
