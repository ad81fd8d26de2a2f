// Bundles web/src into OUT (index.html + assets/app-<hash>.js, app-<hash>.css) with
// esbuild. Usage: node build.mjs --out DIR [--modules DIR/node_modules]
// esbuild is taken from --modules (the npm ci cache under the build folder), so the
// source tree needs no node_modules of its own.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const out = resolve(opt('--out', join(here, 'dist')));
const modules = resolve(opt('--modules', join(here, 'node_modules')));
const require = createRequire(join(modules, 'noop.js'));
let esbuild;
try {
  esbuild = require('esbuild');
} catch (e) {
  console.error(`web build: esbuild not found under ${modules} (run npm ci there): ${e.message}`);
  process.exit(1);
}

rmSync(join(out, 'assets'), { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
const r = await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  charset: 'utf8',
  legalComments: 'none',
  logLevel: 'warning',
});
const files = readdirSync(join(out, 'assets'));
const js = files.find((f) => /^app-.*\.js$/.test(f));
const css = files.find((f) => /^app-.*\.css$/.test(f));
if (!js || !css) {
  console.error('web build: esbuild produced no app js/css');
  process.exit(1);
}
const html = readFileSync(join(here, 'src', 'index.html'), 'utf8').replace('%JS%', js).replace('%CSS%', css);
writeFileSync(join(out, 'index.html'), html);
let bytes = 0;
for (const o of Object.values(r.metafile.outputs)) bytes += o.bytes;
console.log(`web build: ${out}/index.html + assets/${js}, assets/${css} (${(bytes / 1024).toFixed(1)} KiB incl. source maps)`);
