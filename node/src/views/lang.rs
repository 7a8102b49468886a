//! Writing direction from a BCP 47 language tag.

/// Languages written right to left, by primary subtag: Arabic, Hebrew (and its old code `iw`),
/// Persian, Urdu, and a few more a conference may work in (Pashto, Dari, Sindhi, Kurdish
/// (Sorani), Uyghur, Dhivehi, Yiddish).
const RTL_LANGUAGES: &[&str] = &[
    "ar", "he", "iw", "fa", "ur", "ps", "prs", "sd", "ckb", "ug", "dv", "yi",
];

/// Scripts written right to left, by ISO 15924 code: a script subtag decides over the language
/// (`az-Arab` is right to left, `ar-Latn` is not).
const RTL_SCRIPTS: &[&str] = &["arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg"];

/// Whether text in `lang` (a BCP 47 tag such as `ar`, `fa-IR`, `ur-Arab-PK`) runs right to left.
pub fn is_rtl(lang: &str) -> bool {
    let mut subtags = lang.split(['-', '_']).map(str::to_ascii_lowercase);
    let primary = subtags.next().unwrap_or_default();
    // The script subtag, if any, is the first four-letter subtag after the language.
    match subtags.find(|s| s.len() == 4 && s.chars().all(|c| c.is_ascii_alphabetic())) {
        Some(script) => RTL_SCRIPTS.contains(&script.as_str()),
        None => RTL_LANGUAGES.contains(&primary.as_str()),
    }
}

/// The HTML `dir` value for `lang`.
pub fn dir(lang: &str) -> &'static str {
    if is_rtl(lang) { "rtl" } else { "ltr" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_hebrew_persian_and_urdu_run_right_to_left() {
        for lang in [
            "ar",
            "AR",
            "ar-EG",
            "he",
            "fa-IR",
            "ur",
            "ur-Arab-PK",
            "az-Arab",
        ] {
            assert!(is_rtl(lang), "{lang}");
        }
        for lang in [
            "en", "fr", "fr-CH", "zh-Hans", "ru", "es-419", "ar-Latn", "",
        ] {
            assert!(!is_rtl(lang), "{lang}");
        }
        assert_eq!(dir("ar"), "rtl");
        assert_eq!(dir("fr"), "ltr");
    }
}
