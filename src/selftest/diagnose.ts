/**
 * What a failed ministry call means for an operator setting up an environment: the coded
 * error (errors.ts) becomes one line of "what happened" and one of "what to do", in English
 * and in Turkish (the report goes to the ministry's staff; terms from docs/sozluk.md). Only the
 * error's code and details are read, never its message, so nothing the ministry or a proxy
 * sent back (or a code) can reach a report.
 */
import { HesGateError } from '../errors.js';

export interface Diagnosis {
  errorCode: string;
  reason: string;
  action: string;
  tr: { reason: string; action: string };
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
      tr: {
        reason: `beklenmeyen hata (${err instanceof Error ? err.name : typeof err})`,
        action: 'aynı seçeneklerle yeniden çalıştırın; tekrarlarsa bu raporu hes-gate geliştiricilerine gönderin',
      },
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
        tr: {
          reason: `Bakanlık bu ortam için kullanıcı adını/parolayı reddetti (HTTP ${String(status ?? '401')})`,
          action: 'HES_GATE_MINISTRY_USER ve HES_GATE_MINISTRY_PASSWORD(_FILE) ayarlarını denetleyin: test ortamı bilgileri yalnız test adresinde, canlı ortam bilgileri yalnız canlı adreste çalışır',
        },
      };
    case 'HG_MINISTRY_CONNECTION':
      if (CERT_PROBLEMS.test(transport)) {
        return {
          ...base,
          reason: `TLS: the ministry's certificate is not trusted (${transport})`,
          action: 'if a TLS-intercepting proxy sits in between, set ministry.caFile to its CA certificate (PEM)',
          tr: {
            reason: `TLS: Bakanlığın sertifikasına güvenilmiyor (${transport})`,
            action: 'araya TLS\'i açan bir vekil sunucu giriyorsa ministry.caFile ayarına onun sertifika otoritesini (PEM) verin',
          },
        };
      }
      return {
        ...base,
        reason: `unreachable: the connection failed (${transport || 'no detail'})`,
        action: 'check network/proxy/base URL: the station must reach the ministry host on port 443 (firewall, DNS, proxy)',
        tr: {
          reason: `erişilemiyor: bağlantı kurulamadı (${transport || 'ayrıntı yok'})`,
          action: 'ağı, vekil sunucuyu ve adresi denetleyin: istasyon Bakanlığın sunucusuna 443 portundan erişebilmeli (güvenlik duvarı, DNS, vekil sunucu)',
        },
      };
    case 'HG_MINISTRY_TIMEOUT':
      return {
        ...base,
        reason: `unreachable: no answer in time (${transport || 'timeout'})`,
        action: 'check network/proxy/base URL; if the ministry is only slow, raise ministry.headersTimeoutMs / connectTimeoutMs',
        tr: {
          reason: `erişilemiyor: zamanında yanıt gelmedi (${transport || 'zaman aşımı'})`,
          action: 'ağı, vekil sunucuyu ve adresi denetleyin; Bakanlık yalnızca yavaşsa ministry.headersTimeoutMs / connectTimeoutMs değerlerini artırın',
        },
      };
    case 'HG_MINISTRY_HTTP_STATUS':
      if (status === 404) {
        return {
          ...base,
          reason: 'wrong base path: the ministry answered HTTP 404',
          action: 'check ministry.baseUrl (test vs live prefix): test is …/services/g2g/test/saglik/hes/, live is …/services/g2g/saglik/hes/',
          tr: {
            reason: 'adresin yolu yanlış: Bakanlık HTTP 404 yanıtı verdi',
            action: 'ministry.baseUrl ayarını denetleyin (test ve canlı ortamın yolu farklıdır): test …/services/g2g/test/saglik/hes/, canlı …/services/g2g/saglik/hes/',
          },
        };
      }
      return {
        ...base,
        reason: `the ministry answered an unexpected HTTP ${String(status ?? '?')}`,
        action: 'check ministry.baseUrl and any proxy in between; if it persists, ask HES support',
        tr: {
          reason: `Bakanlık beklenmeyen bir HTTP ${String(status ?? '?')} yanıtı verdi`,
          action: 'ministry.baseUrl ayarını ve aradaki vekil sunucuyu denetleyin; sürerse HES desteğine başvurun',
        },
      };
    case 'HG_MINISTRY_SERVER_ERROR':
      return {
        ...base,
        reason: `the ministry's service failed (HTTP ${String(status ?? '5xx')})`,
        action: 'nothing wrong on your side: rerun later; if it persists, ask HES support',
        tr: {
          reason: `Bakanlığın servisi hata verdi (HTTP ${String(status ?? '5xx')})`,
          action: 'sizin tarafınızda bir sorun yok: daha sonra yeniden çalıştırın; sürerse HES desteğine başvurun',
        },
      };
    case 'HG_MINISTRY_RATE_LIMITED': {
      const ms = detail(err, 'retryAfterMs');
      return {
        ...base,
        reason: `rate limited (HTTP 429)${typeof ms === 'number' ? `, retry after ${Math.ceil(ms / 1000)} s` : ''}`,
        action: 'wait and rerun once; stop any other hes-gate using the same credentials while you test',
        tr: {
          reason: `çağrı hızı sınırlandı (HTTP 429)${typeof ms === 'number' ? `, ${Math.ceil(ms / 1000)} s sonra yeniden denenebilir` : ''}`,
          action: 'bekleyip bir kez daha çalıştırın; aynı kimlik bilgileriyle çalışan başka bir hes-gate\'i test süresince durdurun',
        },
      };
    }
    case 'HG_MINISTRY_BAD_RESPONSE':
      return {
        ...base,
        reason: 'the answer was not the ministry\'s JSON (an HTML page or a cut body)',
        action: 'check ministry.baseUrl and the proxy: a captive portal or proxy error page may be answering',
        tr: {
          reason: 'yanıt Bakanlığın JSON yanıtı değildi (bir HTML sayfası ya da yarım kalmış bir gövde)',
          action: 'ministry.baseUrl ayarını ve vekil sunucuyu denetleyin: yanıtı bir giriş sayfası (captive portal) ya da vekil sunucunun hata sayfası veriyor olabilir',
        },
      };
    case 'HG_MINISTRY_UNKNOWN_STATUS':
      return {
        ...base,
        reason: 'the ministry answered a health status hes-gate does not know (never treated as riskless)',
        action: 'pick another sample code; send this report to the hes-gate maintainers',
        tr: {
          reason: 'Bakanlık hes-gate\'in tanımadığı bir sağlık durumu bildirdi (hiçbir zaman risksiz sayılmaz)',
          action: 'başka bir örnek kod seçin; bu raporu hes-gate geliştiricilerine gönderin',
        },
      };
    case 'HG_MINISTRY_UNKNOWN_ERROR': {
      const fields = detail(err, 'fields');
      if (Array.isArray(fields)) {
        return {
          ...base,
          reason: `the ministry refused the request's fields (${fields.map(String).join(', ').slice(0, 80)})`,
          action: 'check the details given for this check (for a visitor: city, district and address are required)',
          tr: {
            reason: `Bakanlık isteğin alanlarını reddetti (${fields.map(String).join(', ').slice(0, 80)})`,
            action: 'bu kontrole verilen bilgileri denetleyin (ziyaretçi için il, ilçe ve adres gereklidir)',
          },
        };
      }
      return {
        ...base,
        reason: `the ministry answered an errorKey hes-gate does not know${typeof detail(err, 'errorKey') === 'string' ? ` (${String(detail(err, 'errorKey')).slice(0, 40)})` : ''}`,
        action: 'send this report to the hes-gate maintainers',
        tr: {
          reason: `Bakanlık hes-gate'in tanımadığı bir errorKey döndürdü${typeof detail(err, 'errorKey') === 'string' ? ` (${String(detail(err, 'errorKey')).slice(0, 40)})` : ''}`,
          action: 'bu raporu hes-gate geliştiricilerine gönderin',
        },
      };
    }
    case 'HG_CONFIG_INVALID':
    case 'HG_CONFIG_FILE':
      return {
        ...base,
        reason: 'the configuration is invalid',
        action: 'run `hes-gate config check`',
        tr: { reason: 'yapılandırma geçersiz', action: '`hes-gate config check` çalıştırın' },
      };
    default:
      return {
        ...base,
        reason: `failed with ${err.code}`,
        action: 'send this report to the hes-gate maintainers',
        tr: { reason: `${err.code} hatasıyla başarısız oldu`, action: 'bu raporu hes-gate geliştiricilerine gönderin' },
      };
  }
}
