/**
 * What a failed ministry call means for an operator setting up an environment: the coded
 * error (errors.ts) becomes one line of "what happened" and one of "what to do". Only the
 * error's code and details are read, never its message, so nothing the ministry or a proxy
 * sent back (or a code) can reach a report.
 */
import { HesGateError } from '../errors.js';

export interface Diagnosis {
  errorCode: string;
  reason: string;
  action: string;
}

const CERT_PROBLEMS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_TLS/;

function detail(err: HesGateError, key: string): unknown {
  return err.details?.[key];
}

export function diagnose(err: unknown): Diagnosis {
  if (!(err instanceof HesGateError)) {
    return {
      errorCode: 'HG_INTERNAL',
      reason: `unexpected error (${err instanceof Error ? err.name : typeof err})`,
      action: 'rerun with the same options; if it repeats, send this report to the hes-gate maintainers',
    };
  }
  const status = detail(err, 'status');
  const transport = String(detail(err, 'transportCode') ?? '');
  const base = { errorCode: err.code };
  switch (err.code) {
    case 'HG_MINISTRY_AUTH':
      return {
        ...base,
        reason: `the ministry refused the user name/password for this environment (HTTP ${String(status ?? '401')})`,
        action: 'check HES_GATE_MINISTRY_USER and HES_GATE_MINISTRY_PASSWORD(_FILE): test credentials only work on the test base URL, live ones on the live URL',
      };
    case 'HG_MINISTRY_CONNECTION':
      if (CERT_PROBLEMS.test(transport)) {
        return {
          ...base,
          reason: `TLS: the ministry's certificate is not trusted (${transport})`,
          action: 'if a TLS-intercepting proxy sits in between, set ministry.caFile to its CA certificate (PEM)',
        };
      }
      return {
        ...base,
        reason: `unreachable: the connection failed (${transport || 'no detail'})`,
        action: 'check network/proxy/base URL: the station must reach the ministry host on port 443 (firewall, DNS, proxy)',
      };
    case 'HG_MINISTRY_TIMEOUT':
      return {
        ...base,
        reason: `unreachable: no answer in time (${transport || 'timeout'})`,
        action: 'check network/proxy/base URL; if the ministry is only slow, raise ministry.headersTimeoutMs / connectTimeoutMs',
      };
    case 'HG_MINISTRY_HTTP_STATUS':
      if (status === 404) {
        return {
          ...base,
          reason: 'wrong base path: the ministry answered HTTP 404',
          action: 'check ministry.baseUrl (test vs live prefix): test is …/services/g2g/test/saglik/hes/, live is …/services/g2g/saglik/hes/',
        };
      }
      return {
        ...base,
        reason: `the ministry answered an unexpected HTTP ${String(status ?? '?')}`,
        action: 'check ministry.baseUrl and any proxy in between; if it persists, ask HES support',
      };
    case 'HG_MINISTRY_SERVER_ERROR':
      return {
        ...base,
        reason: `the ministry's service failed (HTTP ${String(status ?? '5xx')})`,
        action: 'nothing wrong on your side: rerun later; if it persists, ask HES support',
      };
    case 'HG_MINISTRY_RATE_LIMITED': {
      const ms = detail(err, 'retryAfterMs');
      return {
        ...base,
        reason: `rate limited (HTTP 429)${typeof ms === 'number' ? `, retry after ${Math.ceil(ms / 1000)} s` : ''}`,
        action: 'wait and rerun once; stop any other hes-gate using the same credentials while you test',
      };
    }
    case 'HG_MINISTRY_BAD_RESPONSE':
      return {
        ...base,
        reason: 'the answer was not the ministry\'s JSON (an HTML page or a cut body)',
        action: 'check ministry.baseUrl and the proxy: a captive portal or proxy error page may be answering',
      };
    case 'HG_MINISTRY_UNKNOWN_STATUS':
      return {
        ...base,
        reason: 'the ministry answered a health status hes-gate does not know (never treated as riskless)',
        action: 'pick another sample code; send this report to the hes-gate maintainers',
      };
    case 'HG_MINISTRY_UNKNOWN_ERROR': {
      const fields = detail(err, 'fields');
      if (Array.isArray(fields)) {
        return {
          ...base,
          reason: `the ministry refused the request's fields (${fields.map(String).join(', ').slice(0, 80)})`,
          action: 'check the details given for this check (for a visitor: city, district and address are required)',
        };
      }
      return {
        ...base,
        reason: `the ministry answered an errorKey hes-gate does not know${typeof detail(err, 'errorKey') === 'string' ? ` (${String(detail(err, 'errorKey')).slice(0, 40)})` : ''}`,
        action: 'send this report to the hes-gate maintainers',
      };
    }
    case 'HG_CONFIG_INVALID':
    case 'HG_CONFIG_FILE':
      return { ...base, reason: 'the configuration is invalid', action: 'run `hes-gate config check`' };
    default:
      return { ...base, reason: `failed with ${err.code}`, action: 'send this report to the hes-gate maintainers' };
  }
}
