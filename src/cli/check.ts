import { loadConfig } from '../config/load.js';
import { normalizeHesCode } from '../credentials/hes-code.js';
import { HesGateError } from '../errors.js';
import { maskHesCode } from '../privacy/mask.js';
import { openMinistryTarget } from '../ministry/target.js';
import { startEmbeddedSimulator } from '../simulator/embedded.js';
import { errorLine } from './error-line.js';

/** `hes-gate check <code>`: ask the configured ministry once, print a masked answer. */
export async function checkCode(input: string, opts: { plus?: boolean; json?: boolean }): Promise<number> {
  const code = normalizeHesCode(input);
  if (code === null) {
    process.stderr.write('CODE_INVALID: a HES code is 10 letters or digits (dashes and spaces allowed)\n');
    return 2;
  }
  const { config } = loadConfig();
  const target = await openMinistryTarget(config, { simulatorPort: 0, embedded: startEmbeddedSimulator });
  const { environment } = target;
  const ministry = target.createClient();
  const close = async (): Promise<void> => {
    await ministry.close();
    await target.close();
  };
  const started = performance.now();
  try {
    const result = opts.plus ? await ministry.checkHesCodePlus(code) : await ministry.checkHesCode(code);
    const ms = Math.round(performance.now() - started);
    const out: Record<string, unknown> = { code: maskHesCode(code), environment, elapsedMs: ms };
    if (result.kind === 'status') {
      out.status = result.status;
      out.expiresAt = new Date(result.expiresAt).toISOString();
      if (result.plus !== undefined) out.plus = result.plus;
    } else {
      out.status = result.kind === 'not-found' ? 'CODE_NOT_FOUND' : 'CODE_EXPIRED';
    }
    process.stdout.write(opts.json ? `${JSON.stringify(out)}\n` : `${Object.entries(out).map(([k, v]) => `${k.padEnd(10)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof HesGateError) {
      process.stderr.write(errorLine(err));
      return 1;
    }
    throw err;
  } finally {
    await close();
  }
}
