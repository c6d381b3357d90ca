import { readFileSync } from 'node:fs';

/**
 * The version of `@vmlayers/demo`, read from its manifest: `dist/cli.js` and `src/*.ts` both sit one directory
 * below `package.json`, in the repository and in an installed package alike.
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
