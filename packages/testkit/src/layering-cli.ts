import { checkLayering } from './layering.js';

// Usage: node layering-cli.js [root]. Exit 1 and one line per violation when the layering is broken.
const root = process.argv[2] ?? '.';
const violations = checkLayering(root);
if (violations.length > 0) {
  for (const v of violations) console.error(`layering: ${v.where}: ${v.message}`);
  console.error(`layering: ${violations.length} violation(s)`);
  process.exit(1);
}
console.log('layering: ok (dependencies point down, pmaps reach src/ of the apps only)');
