// The page table. A page is a module with render(ctx); a navigation entry names the
// roles that see it. Pages for indicators, DNS and incident reports join here.
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

const COORD = ['coordinator_admin', 'coordinator_analyst'];
const MEMBER = ['member_admin', 'member_user'];
const ALL = [...COORD, ...MEMBER];

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
  { path: '/sensors', roles: ['coordinator_admin', 'member_admin', 'member_user'], render: sensors.render },
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
  { path: '/sensors', label: 'nav.sensors', roles: ['coordinator_admin', 'member_admin', 'member_user'] },
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
