// The words of the page: the table the server rendered the shell with (see web/i18n.py).
const table = JSON.parse(document.getElementById('sb-i18n').textContent);

export const lang = document.documentElement.lang === 'en' ? 'en' : 'ru';
const locale = lang === 'en' ? 'en-GB' : 'ru-RU';

export function t(key, params = {}) {
  let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
  for (const [name, value] of Object.entries(params)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

export function reason(code) {
  return code ? t(`reason_${code}`) : '';
}

export function statusLabel(status) {
  return t(`status_${status}`);
}

export function kindShort(kind) {
  return t(`kind_${kind}`);
}

const timeFormat = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(locale, {
  day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit',
});
const fullFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'medium' });

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? timeFormat.format(date) : dayTimeFormat.format(date);
}

export function formatFull(iso) {
  return iso ? fullFormat.format(new Date(iso)) : '';
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const [uh, um, us] = lang === 'en' ? ['h', 'min', 's'] : ['ч', 'мин', 'с'];
  if (h > 0) return `${h} ${uh} ${m} ${um}`;
  if (m > 0) return `${m} ${um} ${rest} ${us}`;
  return `${rest} ${us}`;
}

export function installLanguageSwitch() {
  const button = document.getElementById('lang-switch');
  if (!button) return;
  button.addEventListener('click', () => {
    const next = button.dataset.lang === 'en' ? 'en' : 'ru';
    document.cookie = `sb_lang=${next}; path=/; max-age=31536000; samesite=lax`;
    location.reload();
  });
}
