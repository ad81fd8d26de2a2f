// The page table. A page is a module with render(ctx); a navigation entry names the
// roles that see it. Pages for DNS join here.
import * as dashboard from './pages/dashboard.js';
import * as events from './pages/events.js';
import * as eventPage from './pages/event.js';
import * as campaigns from './pages/campaigns.js';
import * as notices from './pages/notices.js';
import * as notice from './pages/notice.js';
import * as compose from './pages/compose.js';
import * as detections from './pages/detections.js';
import * as assets from './pages/assets.js';
import * as sensors from './pages/sensors.js';
import * as incidents from './pages/incidents.js';
import * as alerts from './pages/alerts.js';
import * as drills from './pages/drills.js';
import * as incstats from './pages/incstats.js';
import * as indicators from './pages/indicators.js';
import * as samples from './pages/samples.js';

const COORD = ['coordinator_admin', 'coordinator_analyst'];
const MEMBER = ['member_admin', 'member_user'];
const ALL = [...COORD, ...MEMBER];
// sector bodies and ministries: the information-sharing pages only (the API refuses
// them everything else)
const ORG = ['sector_user', 'ministry_user'];
const SHARING = [...ALL, ...ORG];

export const ROUTES = [
  { path: '/', roles: ALL, render: dashboard.render },
  { path: '/events', roles: ALL, render: events.render },
  { path: '/events/:id', roles: ALL, render: eventPage.render },
  { path: '/campaigns', roles: COORD, render: campaigns.render },
  { path: '/notices', roles: ALL, render: notices.render },
  { path: '/notices/overdue', roles: COORD, render: notices.renderOverdue },
  { path: '/notices/:id', roles: ALL, render: notice.render },
  { path: '/compose', roles: COORD, render: compose.render },
  { path: '/detections', roles: ALL, render: detections.render },
  { path: '/assets', roles: ALL, render: assets.render },
  { path: '/sensors', roles: ['coordinator_admin', 'coordinator_analyst', 'member_admin', 'member_user'], render: sensors.render },
  { path: '/', roles: ORG, render: alerts.renderList },
  { path: '/incidents', roles: SHARING, render: incidents.renderList },
  { path: '/incidents/new', roles: MEMBER, render: incidents.renderNew },
  { path: '/incidents/:id', roles: SHARING, render: incidents.renderOne },
  { path: '/alerts', roles: SHARING, render: alerts.renderList },
  { path: '/alerts/:id', roles: SHARING, render: alerts.renderOne },
  { path: '/drills', roles: SHARING, render: drills.renderList },
  { path: '/drills/:id', roles: COORD, render: drills.renderReport },
  { path: '/stats', roles: COORD, render: incstats.render },
  { path: '/indicators', roles: ALL, render: indicators.renderList },
  { path: '/indicators/add', roles: COORD, render: indicators.renderAdd },
  { path: '/indicators/import', roles: COORD, render: indicators.renderImport },
  { path: '/indicators/:id', roles: ALL, render: indicators.renderOne },
  { path: '/samples', roles: ALL, render: samples.renderList },
  { path: '/samples/:id', roles: ALL, render: samples.renderOne },
];

export const NAV = [
  { path: '/', label: 'nav.dashboard', roles: ALL },
  { path: '/events', label: 'nav.events', roles: ALL },
  { path: '/campaigns', label: 'nav.campaigns', roles: COORD },
  { path: '/notices', label: 'nav.notices', roles: ALL },
  { path: '/notices/overdue', label: 'nav.overdue', roles: COORD },
  { path: '/compose', label: 'nav.compose', roles: COORD },
  { path: '/detections', label: 'nav.detections', roles: MEMBER },
  { path: '/assets', label: 'nav.assets', roles: ALL },
  { path: '/sensors', label: 'nav.sensors', roles: ['coordinator_admin', 'coordinator_analyst', 'member_admin', 'member_user'] },
  { path: '/incidents', label: 'nav.incidents', roles: SHARING },
  { path: '/alerts', label: 'nav.alerts', roles: SHARING },
  { path: '/drills', label: 'nav.drills', roles: SHARING },
  { path: '/stats', label: 'nav.stats', roles: COORD },
  { path: '/indicators', label: 'nav.indicators', roles: ALL },
  { path: '/samples', label: 'nav.samples', roles: ALL },
];

export function matchRoute(path, role) {
  const parts = path.split('/').filter(Boolean);
  for (const r of ROUTES) {
    const rp = r.path.split('/').filter(Boolean);
    if (rp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < rp.length; i++) {
      if (rp[i].startsWith(':')) params[rp[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (rp[i] !== parts[i]) { ok = false; break; }
    }
    if (ok && r.roles.includes(role)) return { route: r, params };
  }
  return null;
}
