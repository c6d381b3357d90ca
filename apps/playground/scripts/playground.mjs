// `npm run playground`: serves the built playground (apps/playground/dist) and prints its URL;
// `npm run playground -- --build` stops after the build, leaving the static site in dist/ for hosting anywhere.
// The root script has built it (and every package under it) before this runs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from './static-server.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const args = process.argv.slice(2);
if (!existsSync(join(dist, 'index.html'))) {
  console.error(`playground: ${dist} has no index.html; build it first (npm run playground does)`);
  process.exit(1);
}
if (args.includes('--build')) {
  console.log(`playground: static site written to ${dist} (open it from any static web server)`);
  process.exit(0);
}
const portArg = args.find((a) => a.startsWith('--port='));
const port = portArg ? Number(portArg.slice(7)) : Number(process.env.PORT ?? 5174);
const { url } = await serveStatic(dist, { port, host: process.env.HOST ?? '127.0.0.1' });
console.log(`vmlayers playground: ${url}  (Ctrl-C stops it)`);
