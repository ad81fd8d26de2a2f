/* sigma_logsource.c - which records a rule's logsource admits.
 *
 * Categories name a kind of observation (process_creation -> process records,
 * webserver -> http, ...). For Windows rules the category also fixes the event:
 * Sysmon's channel and EventID, or a Security/PowerShell event, as Sigma's
 * Windows pipelines do; records from winevent-json carry win.channel and
 * win.event_id for this. A logsource no crosswatch input produces yet (cloud
 * audit logs, Linux auditd, ...) is "dormant": the rule is loaded and correct,
 * but no record reaches it. The table is documented in docs/sigma.md. */
#include "detect/sigma_ruleset.h"

#include <string.h>

#include "common/banned.h"

#define K(x) (1u << CW_KIND_##x)
#define SYSMON "Microsoft-Windows-Sysmon/Operational"
#define PSOP "Microsoft-Windows-PowerShell/Operational"

static const struct cat {
    const char *category;
    uint32_t kinds;
    const char *channel;       /* Windows channel */
    uint16_t eids[4];
    uint8_t neids;
    const char *event_type;
} cats[] = {
    {"process_creation", K(PROCESS), NULL, {1, 4688}, 2, NULL},
    {"file_event", K(FILE), SYSMON, {11}, 1, NULL},
    {"file_change", K(FILE), SYSMON, {2}, 1, NULL},
    {"file_delete", K(FILE), SYSMON, {23, 26}, 2, NULL},
    {"file_block_executable", K(FILE), SYSMON, {27}, 1, NULL},
    {"file_block_shredding", K(FILE), SYSMON, {28}, 1, NULL},
    {"file_executable_detected", K(FILE), SYSMON, {29}, 1, NULL},
    {"create_stream_hash", K(FILE), SYSMON, {15}, 1, NULL},
    {"network_connection", K(CONNECTION), SYSMON, {3}, 1, NULL},
    {"dns_query", K(DNS), SYSMON, {22}, 1, NULL},
    {"registry_event", K(LOG), SYSMON, {12, 13, 14}, 3, NULL},
    {"registry_add", K(LOG), SYSMON, {12}, 1, "CreateKey"},
    {"registry_delete", K(LOG), SYSMON, {12}, 1, "Delete"},
    {"registry_set", K(LOG), SYSMON, {13}, 1, NULL},
    {"registry_rename", K(LOG), SYSMON, {14}, 1, NULL},
    {"image_load", K(LOG), SYSMON, {7}, 1, NULL},
    {"driver_load", K(LOG), SYSMON, {6}, 1, NULL},
    {"pipe_created", K(LOG), SYSMON, {17, 18}, 2, NULL},
    {"process_access", K(LOG), SYSMON, {10}, 1, NULL},
    {"create_remote_thread", K(LOG), SYSMON, {8}, 1, NULL},
    {"raw_access_thread", K(LOG), SYSMON, {9}, 1, NULL},
    {"process_termination", K(LOG), SYSMON, {5}, 1, NULL},
    {"process_tampering", K(LOG), SYSMON, {25}, 1, NULL},
    {"clipboard_capture", K(LOG), SYSMON, {24}, 1, NULL},
    {"wmi_event", K(LOG), SYSMON, {19, 20, 21}, 3, NULL},
    {"sysmon_status", K(LOG), SYSMON, {4, 16}, 2, NULL},
    {"sysmon_error", K(LOG), SYSMON, {255}, 1, NULL},
    {"ps_script", K(LOG), PSOP, {4104}, 1, NULL},
    {"ps_module", K(LOG), PSOP, {4103}, 1, NULL},
    {"ps_classic_start", K(LOG), "Windows PowerShell", {400}, 1, NULL},
    {"ps_classic_provider_start", K(LOG), "Windows PowerShell", {600}, 1, NULL},
    {"ps_classic_script", K(LOG), "Windows PowerShell", {800}, 1, NULL},
    {"webserver", K(HTTP), NULL, {0}, 0, NULL},
    {"proxy", K(HTTP), NULL, {0}, 0, NULL},
    {"dns", K(DNS), NULL, {0}, 0, NULL},
    {"firewall", K(FLOW) | K(CONNECTION), NULL, {0}, 0, NULL},
};

/* Windows services: the event log channel. */
static const struct {
    const char *service, *channel;
} services[] = {
    {"security", "Security"},
    {"system", "System"},
    {"application", "Application"},
    {"sysmon", SYSMON},
    {"powershell", PSOP},
    {"powershell-classic", "Windows PowerShell"},
    {"taskscheduler", "Microsoft-Windows-TaskScheduler/Operational"},
    {"wmi", "Microsoft-Windows-WMI-Activity/Operational"},
    {"windefend", "Microsoft-Windows-Windows Defender/Operational"},
    {"codeintegrity-operational", "Microsoft-Windows-CodeIntegrity/Operational"},
    {"bits-client", "Microsoft-Windows-Bits-Client/Operational"},
    {"dns-server", "DNS Server"},
    {"firewall-as", "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"},
    {"appxdeployment-server", "Microsoft-Windows-AppXDeploymentServer/Operational"},
    {"msexchange-management", "MSExchange Management"},
    {"ntlm", "Microsoft-Windows-NTLM/Operational"},
    {"driver-framework", "Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
    {"terminalservices-localsessionmanager",
     "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"},
    {"smbclient-security", "Microsoft-Windows-SmbClient/Security"},
    {"openssh", "OpenSSH/Operational"},
    {"printservice-admin", "Microsoft-Windows-PrintService/Admin"},
    {"printservice-operational", "Microsoft-Windows-PrintService/Operational"},
    {"lsa-server", "Microsoft-Windows-LSA/Operational"},
    {"capi2", "Microsoft-Windows-CAPI2/Operational"},
    {"dhcp", "Microsoft-Windows-DHCP-Server/Operational"},
};

static bool eq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

static void windows(const struct sigma_rule *r, struct sigma_ls *ls)
{
    ls->os = 1;
    for (size_t i = 0; r->category && i < sizeof(cats) / sizeof(cats[0]); i++) {
        if (!eq(cats[i].category, r->category))
            continue;
        if (cats[i].kinds & (K(HTTP) | K(FLOW))) /* webserver/proxy/dns/firewall: not events */
            break;
        ls->kinds = cats[i].kinds;
        ls->channel = cats[i].channel;
        memcpy(ls->eids, cats[i].eids, sizeof(ls->eids));
        ls->neids = cats[i].neids;
        ls->event_type = cats[i].event_type;
        if (!ls->channel && !strcmp(r->category, "process_creation"))
            ls->channel = NULL; /* Sysmon 1 or Security 4688: kind PROCESS decides */
        return;
    }
    if (r->category) {
        ls->why = "no Windows event source known for this category";
        return;
    }
    for (size_t i = 0; r->service && i < sizeof(services) / sizeof(services[0]); i++) {
        if (eq(services[i].service, r->service)) {
            ls->kinds = ~0u;
            ls->channel = services[i].channel;
            return;
        }
    }
    ls->why = "no event log channel known for this Windows service";
}

void sigma_logsource_resolve(const struct sigma_rule *r, struct sigma_ls *ls)
{
    memset(ls, 0, sizeof(*ls));
    if (eq(r->product, "windows")) {
        windows(r, ls);
        return;
    }
    if (r->product && (eq(r->product, "linux") || eq(r->product, "macos")))
        ls->os = -1;
    for (size_t i = 0; r->category && i < sizeof(cats) / sizeof(cats[0]); i++) {
        if (eq(cats[i].category, r->category)) {
            ls->kinds = cats[i].kinds;
            if (ls->os == 0 && !(cats[i].kinds & (K(HTTP) | K(DNS) | K(FLOW))))
                ls->os = -1; /* process/file events of no named OS: not Windows events */
            if (r->product && !eq(r->product, "linux") && !eq(r->product, "macos") &&
                !(cats[i].kinds & (K(HTTP) | K(DNS) | K(FLOW))))
                break;
            return;
        }
    }
    ls->kinds = 0;
    ls->why = r->category ? "no crosswatch input produces this log source category yet"
                          : "no crosswatch input produces this product/service log yet";
}

bool sigma_logsource_admits(const struct sigma_ls *ls, const struct cw_record *rec)
{
    if (ls->why || rec->kind >= 32 || !(ls->kinds & (1u << rec->kind)))
        return false;
    size_t cn = 0;
    const char *ch = cw_record_str(rec, CW_F_WIN_CHANNEL, &cn);
    if ((ls->os == 1 && !ch) || (ls->os == -1 && ch))
        return false;
    if (ls->os != 1)
        return true;
    if (ls->channel && (cn != strlen(ls->channel) || memcmp(ch, ls->channel, cn)))
        return false;
    if (ls->neids) {
        int64_t id = cw_record_int(rec, CW_F_WIN_EVENT_ID, -1);
        uint8_t i;
        for (i = 0; i < ls->neids && ls->eids[i] != id; i++)
            ;
        if (i == ls->neids)
            return false;
    }
    if (ls->event_type) {
        size_t en = 0;
        const char *et = cw_record_str(rec, CW_F_WIN_EVENT_TYPE, &en);
        size_t pn = strlen(ls->event_type);
        if (!et || en < pn || memcmp(et, ls->event_type, pn))
            return false;
    }
    return true;
}
