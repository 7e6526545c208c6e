//! Finding Jira issue keys (`CHG-104`) in free text such as PR titles and branch names.

use crate::github::records::PullRequest;

/// The keys of `projects` a pull request names, each with where: its `title`, else its
/// `head branch`.
pub(crate) fn pr_references(pr: &PullRequest, projects: &[String]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = references(&pr.title, projects)
        .into_iter()
        .map(|k| (k, "title"))
        .collect();
    for k in references(&pr.head_branch, projects) {
        if !out.iter().any(|(o, _)| *o == k) {
            out.push((k, "head branch"));
        }
    }
    out
}

/// The keys of `projects` that `text` names, upper-cased, in order of appearance, without
/// repeats. Matching is case-insensitive (`chg-104-fix` in a branch name counts); a key must
/// not be glued to letters or digits on either side (`XCHG-1` and `CHG-12a` do not count).
pub fn references(text: &str, projects: &[String]) -> Vec<String> {
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut found: Vec<(usize, String)> = Vec::new();
    for project in projects {
        let project = project.to_ascii_uppercase();
        if project.is_empty() {
            continue;
        }
        let needle = format!("{project}-");
        let mut from = 0;
        while let Some(pos) = upper[from..].find(&needle) {
            let start = from + pos;
            from = start + needle.len();
            if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            let digits = bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == 0 {
                continue;
            }
            let end = from + digits;
            if bytes.get(end).is_some_and(|b| b.is_ascii_alphabetic()) {
                continue;
            }
            let key = upper[start..end].to_string();
            if !found.iter().any(|(_, k)| *k == key) {
                found.push((start, key));
            }
        }
    }
    found.sort();
    found.into_iter().map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::references;

    fn chg(text: &str) -> Vec<String> {
        references(text, &["CHG".to_string(), "OPS".to_string()])
    }

    #[test]
    fn keys_are_found_case_insensitively_at_word_edges() {
        assert_eq!(chg("CHG-12: rotate keys"), ["CHG-12"]);
        assert_eq!(chg("feature/chg-104-fix-login"), ["CHG-104"]);
        assert_eq!(chg("[OPS-3] and CHG-9, again CHG-9"), ["OPS-3", "CHG-9"]);
        assert_eq!(chg("chg_7 CHG- XCHG-1 CHG-12a CHG-"), Vec::<String>::new());
        assert_eq!(chg("CHG-5_hotfix"), ["CHG-5"]);
        assert!(references("CHG-1", &[]).is_empty());
    }
}
