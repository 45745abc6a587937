// The dashboard's words and formats. The French labels of the contract's enums and of
// the roles are generated from vigie/events/labels (labels.gen.js, the timeline's
// words too): re-exported here under their names, never copied.
import { CHANNEL_NAME } from './labels.gen.js';

export * from './labels.gen.js';

// Requests still to act on or under way (the others are over).
export const RF_OPEN = new Set(['REQUESTED', 'ACCEPTED', 'PARTIALLY_ACCEPTED', 'DISPATCHED', 'ARRIVED']);

export const SEVERITY_RANK = { EXTREME: 4, SEVERE: 3, MODERATE: 2, MINOR: 1 };
// Statuses that say something went wrong: shown in red, with the channels' reasons.
export const ASTATUS_PROBLEM = new Set(['FAILED', 'PARTIALLY_SENT', 'FR_ALERT_REFUSED']);
// A channel's outcomes (ChannelState) that say something went wrong.
export const CSTATE_PROBLEM = new Set(['FAILED', 'PARTIAL', 'REFUSED']);
// Channels that reach people one by one (their counts are of people); the others
// publish once (CAP_FEED, WEBHOOK) or broadcast to an area nobody counts (FR_ALERT).
export const PERSON_CHANNELS = new Set(['SMS', 'VOICE', 'EMAIL', 'PUSH']);
// « par SMS », « par appel vocal »
export const BY_CHANNEL = Object.fromEntries([...PERSON_CHANNELS].map(c => [c, `par ${CHANNEL_NAME[c]}`]));
// What an approver reads for a channel whose audience nobody can count.
export const AUDIENCE_UNKNOWN = {
  FR_ALERT: 'zone entière, nombre inconnu',
  CAP_FEED: 'flux public, nombre de lecteurs inconnu',
  WEBHOOK: 'partenaires abonnés, nombre inconnu',
};
// « 1 personne », « 3 personnes »
export const people = (n) => `${n} personne${n > 1 ? 's' : ''}`;

export const pairs = (o) => Object.entries(o);

// age: "12 min", "3 h 05", "2 j"
export function age(iso, now = Date.now()) {
  const m = Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
  if (m < 1) return "à l'instant";
  if (m < 60) return `${m} min`;
  const hh = Math.floor(m / 60);
  if (hh < 48) return `${hh} h ${String(m % 60).padStart(2, '0')}`;
  return `${Math.floor(hh / 24)} j`;
}

const timeFmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'medium' });
export const when = (iso) => timeFmt.format(new Date(iso));
