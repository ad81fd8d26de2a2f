/* incident_taxonomy.c - the national report's incident taxonomy as data, and the
 * fiscal calendar (see incident_taxonomy.h). Changing a code breaks exports: add new
 * entries at the end of a group instead. */
#include "center/incident_taxonomy.h"

#include <stdbool.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/banned.h"

#define OCC "occurred", "発生"
#define LEAD "leading", "上記につながる事象"
static const struct cw_tax_entry events[] = {
    {"E0", "not_occurred", "not_occurred", "未発生", "未発生(予兆・ヒヤリハット)",
     "not occurred (warning sign / near miss)",
     "event — not occurred (warning sign / near miss)"},
    {"E1", "confidentiality", OCC, "機密性を脅かす事象", "threatens confidentiality",
     "event — threatens confidentiality"},
    {"E2", "integrity", OCC, "完全性を脅かす事象", "threatens integrity",
     "event — threatens integrity"},
    {"E3", "availability", OCC, "可用性を脅かす事象", "threatens availability",
     "event — threatens availability"},
    {"E4", "malware", LEAD, "マルウェア等の感染", "malware infection",
     "event — leading: malware infection"},
    {"E5", "unauthorized_code", LEAD, "不正コードの実行", "execution of unauthorized code",
     "event — leading: unauthorized code execution"},
    {"E6", "intrusion", LEAD, "システム等への侵入", "intrusion into systems",
     "event — leading: intrusion into systems"},
    {"E7", "other", LEAD, "その他", "other", "event — leading: other"},
};

#define INT "intentional", "意図的な原因"
#define ACC "accidental", "偶発的な原因"
static const struct cw_tax_entry causes[] = {
    {"C01", "suspicious_mail", INT, "不審メール等の受信", "suspicious mail received",
     "cause — suspicious mail received"},
    {"C02", "id_impersonation", INT, "ユーザID等の偽り", "impersonation of user IDs",
     "cause — impersonation of user IDs"},
    {"C03", "ddos", INT, "DDoS攻撃等の大量アクセス", "DDoS / mass access",
     "cause — DDoS / mass access"},
    {"C04", "info_theft", INT, "情報の不正取得", "unauthorized acquisition of information",
     "cause — unauthorized acquisition of information"},
    {"C05", "insider", INT, "内部不正", "insider fraud", "cause — insider fraud"},
    {"C06", "operation_not_done", INT, "適切なシステム運用の未実施",
     "appropriate system operation not carried out",
     "cause — appropriate system operation not carried out"},
    {"C07", "user_operation_error", ACC, "ユーザの使用時の不注意", "user operation error",
     "cause — user operation error"},
    {"C08", "user_management_error", ACC, "ユーザの管理時の不注意", "user management error",
     "cause — user management error"},
    {"C09", "suspicious_file", ACC, "不審なファイルの実行", "execution of a suspicious file",
     "cause — execution of a suspicious file"},
    {"C10", "suspicious_site", ACC, "不審なサイトの閲覧", "browsing a suspicious site",
     "cause — browsing a suspicious site"},
    {"C11", "contractor_error", ACC, "外部委託先の管理不備", "contractor management error",
     "cause — contractor management error"},
    {"C12", "equipment_failure", ACC, "機器等の故障", "equipment failure",
     "cause — equipment failure"},
    {"C13", "vulnerability", ACC, "システムの脆弱性", "system vulnerability",
     "cause — system vulnerability"},
    {"C14", "spillover", ACC, "他分野の障害からの波及",
     "spill-over from another sector's outage", "cause — spill-over from another sector's outage"},
    {"C15", "environmental", "environmental", "環境的な原因", "自然災害等の環境的要因",
     "environmental (natural disaster etc.)", "cause — environmental"},
    {"C16", "other", "other", "その他の原因", "その他", "other", "cause — other"},
    {"C17", "unknown", "other", "その他の原因", "不明", "unknown", "cause — unknown"},
};

#define ATK "cyber_attack", "サイバー攻撃"
static const struct cw_tax_entry attacks[] = {
    {"A1", "ransomware", ATK, "ランサムウェア", "ransomware", "attack kind — ransomware"},
    {"A2", "other_malware", ATK, "ランサムウェア以外のマルウェア",
     "malware other than ransomware", "attack kind — malware other than ransomware"},
    {"A3", "ddos", ATK, "DDoS攻撃等の大量アクセス", "DDoS / mass access",
     "attack kind — DDoS / mass access"},
    {"A4", "other", ATK, "その他", "other", "attack kind — other"},
};

_Static_assert(sizeof(causes) / sizeof(causes[0]) == CW_TAX_MAX_CAUSES, "cause count");

const struct cw_tax_entry *cw_tax_entries(enum cw_tax_dim d, size_t *n)
{
    switch (d) {
    case CW_TAX_EVENT: *n = sizeof(events) / sizeof(events[0]); return events;
    case CW_TAX_CAUSE: *n = sizeof(causes) / sizeof(causes[0]); return causes;
    case CW_TAX_ATTACK: *n = sizeof(attacks) / sizeof(attacks[0]); return attacks;
    default: *n = 0; return NULL;
    }
}

const struct cw_tax_entry *cw_tax_find(enum cw_tax_dim d, const char *s, size_t *idx)
{
    size_t n;
    const struct cw_tax_entry *e = cw_tax_entries(d, &n);
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(e[i].code, s) || !strcmp(e[i].key, s)) {
            if (idx)
                *idx = i;
            return &e[i];
        }
    return NULL;
}

const char *cw_tax_dim_name(enum cw_tax_dim d)
{
    static const char *const names[] = {"event", "cause", "attack"};
    return (unsigned)d < CW_TAX__COUNT ? names[d] : "?";
}

static void str(struct cw_buf *out, const char *key, const char *v, bool comma)
{
    cw_buf_addf(out, "%s\"%s\":", comma ? "," : "", key);
    cw_buf_add_json_str(out, v, strlen(v));
}

void cw_tax_json(struct cw_buf *out)
{
    cw_buf_addc(out, '{');
    for (int d = 0; d < CW_TAX__COUNT; d++) {
        size_t n;
        const struct cw_tax_entry *e = cw_tax_entries((enum cw_tax_dim)d, &n);
        cw_buf_addf(out, "%s\"%s\":[", d ? "," : "", cw_tax_dim_name((enum cw_tax_dim)d));
        for (size_t i = 0; i < n; i++) {
            cw_buf_adds(out, i ? ",{" : "{");
            str(out, "code", e[i].code, false);
            str(out, "key", e[i].key, true);
            str(out, "group", e[i].group, true);
            str(out, "group_ja", e[i].group_ja, true);
            str(out, "ja", e[i].ja, true);
            str(out, "en", e[i].en, true);
            cw_buf_addc(out, '}');
        }
        cw_buf_addc(out, ']');
    }
    cw_buf_adds(out, ",\"multi\":{\"event\":false,\"cause\":true,\"attack\":false},"
                     "\"fiscal_year\":\"April 1 - March 31, Japan time (UTC+9)\"}\n");
}

/* ------------------------------------------------------------------ fiscal calendar */

#define JST_OFFSET_S (9 * 3600)

/* Howard Hinnant's civil_from_days (public domain description). */
static void civil(int64_t z, int64_t *y, unsigned *m)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int32_t cw_fiscal_quarter(int64_t us)
{
    int64_t s = us / 1000000 - (us % 1000000 < 0) + JST_OFFSET_S;
    int64_t days = s / 86400 - (s % 86400 < 0);
    int64_t y;
    unsigned m;
    civil(days, &y, &m);
    int64_t fy = m >= 4 ? y : y - 1;
    int q = (int)((m + 8) % 12) / 3; /* Apr-Jun 0, Jul-Sep 1, Oct-Dec 2, Jan-Mar 3 */
    return (int32_t)(fy * 4 + q);
}

int64_t cw_fiscal_quarter_start(int32_t fq)
{
    int64_t fy = fq / 4;
    int q = fq % 4;
    int64_t y = q == 3 ? fy + 1 : fy;
    unsigned m = q == 3 ? 1 : (unsigned)(4 + 3 * q);
    return (cw_days_from_civil(y, m, 1) * 86400 - JST_OFFSET_S) * 1000000;
}
