// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip, level 9) beside each compressible
// asset of a built web app, for the server to send as they are (routes/web.rs `precompressed`)
// instead of compressing on every request at a low level. A copy that saves under 10% is not
// written; the server then sends the file itself.
//   node scripts/precompress.mjs frontend/dist
import { readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const compressible = /\.(wasm|js|css|svg|json|html)$/;

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      walk(path);
      continue;
    }
    if (!compressible.test(entry.name) || entry.name === "index.html") continue;
    const bytes = readFileSync(path);
    const copies = {
      br: () =>
        brotliCompressSync(bytes, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 11,
            [constants.BROTLI_PARAM_LGWIN]: 24,
            [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        }),
      gz: () => gzipSync(bytes, { level: 9 }),
    };
    for (const [ext, compress] of Object.entries(copies)) {
      const out = compress();
      if (bytes.length >= 1024 && out.length < bytes.length * 0.9) {
        writeFileSync(`${path}.${ext}`, out);
      } else {
        rmSync(`${path}.${ext}`, { force: true });
      }
    }
  }
}

walk(process.argv[2] ?? "frontend/dist");
