// French labels of the contract's enums.
export const KIND = {
  FLOOD: 'Inondation', FLASH_FLOOD: 'Crue rapide', WILDFIRE: 'Feu de forêt', AVALANCHE: 'Avalanche',
  STORM: 'Tempête', HEATWAVE: 'Canicule', INDUSTRIAL: 'Accident industriel', HAZMAT_TRANSPORT: 'Transport de matières dangereuses',
  EARTHQUAKE: 'Séisme', LANDSLIDE: 'Mouvement de terrain', PUBLIC_ORDER: 'Ordre public', OTHER: 'Autre',
};
export const SEVERITY = { EXTREME: 'Extrême', SEVERE: 'Sévère', MODERATE: 'Modérée', MINOR: 'Mineure' };
export const SEVERITY_RANK = { EXTREME: 4, SEVERE: 3, MODERATE: 2, MINOR: 1 };
export const STATUS = { REPORTED: 'Signalé', QUALIFIED: 'Qualifié', ESCALATED: 'Escaladé (préfecture)', STABILIZED: 'Stabilisé', CLOSED: 'Clos' };
export const RKIND = { TEAM: 'Équipes', VEHICLE: 'Véhicules', EQUIPMENT: 'Matériel', DRONE: 'Drones', SHELTER: "Centres d'hébergement", CAMERA: 'Caméras' };
export const RSTATUS = { AVAILABLE: 'disponible', ENGAGED: 'engagé', UNAVAILABLE: 'indisponible', DEMOBILIZED: 'démobilisé' };
export const ASTATUS = {
  DRAFT: 'Brouillon', PENDING_APPROVAL: 'En attente du maire', APPROVED: 'Approuvée', FR_ALERT_REQUESTED: 'FR-Alert demandée à la préfecture',
  DISPATCHING: 'Diffusion en cours', SENT: 'Diffusée', REJECTED: 'Refusée', CANCELLED: 'Annulée', EXPIRED: 'Expirée', FAILED: 'Échec de la diffusion',
  PARTIALLY_SENT: 'Partiellement diffusée', FR_ALERT_REFUSED: 'FR-Alert refusée par la préfecture',
};
// Statuses that say something went wrong: shown in red, with the channels' reasons.
export const ASTATUS_PROBLEM = new Set(['FAILED', 'PARTIALLY_SENT', 'FR_ALERT_REFUSED']);
// A channel's outcome (ChannelState).
export const CSTATE = {
  PENDING: 'En attente', SENDING: 'Envoi en cours', DELIVERED: 'Remis à tous', PARTIAL: 'Partiellement remis', FAILED: 'Échec', REFUSED: 'Refusé',
};
export const CSTATE_PROBLEM = new Set(['FAILED', 'PARTIAL', 'REFUSED']);
// Channels that reach people one by one (their counts are of people); the others
// publish once (CAP_FEED, WEBHOOK) or broadcast to an area nobody counts (FR_ALERT).
export const PERSON_CHANNELS = new Set(['SMS', 'VOICE', 'EMAIL', 'PUSH']);
export const BY_CHANNEL = { SMS: 'par SMS', VOICE: 'par appel vocal', EMAIL: 'par courriel', PUSH: 'par notification' };
// What an approver reads for a channel whose audience nobody can count.
export const AUDIENCE_UNKNOWN = {
  FR_ALERT: 'zone entière, nombre inconnu',
  CAP_FEED: 'flux public, nombre de lecteurs inconnu',
  WEBHOOK: 'partenaires abonnés, nombre inconnu',
};
export const CHANNEL = { SMS: 'SMS', VOICE: 'Appel vocal', EMAIL: 'Courriel', PUSH: 'Notification', WEBHOOK: 'Webhook', CAP_FEED: 'Flux CAP', FR_ALERT: 'FR-Alert' };
// « 1 personne », « 3 personnes »
export const people = (n) => `${n} personne${n > 1 ? 's' : ''}`;
export const URGENCY = { IMMEDIATE: 'Immédiate', EXPECTED: 'Attendue', FUTURE: 'Future', PAST: 'Passée', UNKNOWN: 'Inconnue' };
export const CERTAINTY = { OBSERVED: 'Observé', LIKELY: 'Probable', POSSIBLE: 'Possible', UNLIKELY: 'Peu probable', UNKNOWN: 'Inconnue' };
export const CATEGORY = {
  GEO: 'Géophysique', MET: 'Météo', SAFETY: 'Sécurité', SECURITY: 'Sûreté', RESCUE: 'Secours', FIRE: 'Incendie',
  HEALTH: 'Santé', ENV: 'Environnement', TRANSPORT: 'Transport', INFRA: 'Infrastructures', CBRNE: 'NRBC-E', OTHER: 'Autre',
};
export const ROLE = { mayor: 'maire', rac: 'coordinateur (RAC)', operator: 'opérateur', field: 'terrain', observer: 'observateur', prefecture: 'préfecture', admin: 'administrateur' };

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
