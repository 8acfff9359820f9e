from __future__ import annotations

LABELS = {
    "ru": {"personal_manager": "Чат с персональным менеджером", "general": "Общий чат"},
    "en": {"personal_manager": "Chat with personal manager", "general": "General chat"},
}


def preferred_language(accept_language: str | None) -> str:
    """`en` when Accept-Language prefers English over Russian, else `ru` (the default)."""
    if not accept_language:
        return "ru"
    best: tuple[float, str] | None = None
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in ("ru", "en"):
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        candidate = (quality, lang)
        if best is None or quality > best[0]:
            best = candidate
        del position
    return best[1] if best else "ru"


def dialog_label(kind: str, lang: str) -> str:
    return LABELS.get(lang, LABELS["ru"])[kind]
