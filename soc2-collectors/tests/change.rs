//! The cross-system check over GitHub and Jira follows the verdict rule: nothing in scope is
//! `not_applicable`, and incomplete or missing populations never give `pass`.
#![cfg(all(feature = "github", feature = "jira"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pr_has_ticket_follows_the_verdict_rule() {
    let config = soc2_collectors::registry()
        .parse_config(
            "[github]\nrepos = [\"acme/api\"]\ntoken_env = \"GITHUB_TOKEN\"\n\
             [jira]\nbase_url = \"https://acme.atlassian.net\"\njql = \"project = CHG\"\n\
             email_env = \"JIRA_EMAIL\"\ntoken_env = \"JIRA_API_TOKEN\"\n",
            "soc2.toml",
            ".".as_ref(),
        )
        .unwrap();
    let groups = config.checks();
    let cross = groups.iter().find(|g| g.id.name == "change").unwrap();
    assert_eq!(cross.checks[0].id(), "change.pr_has_ticket");
    let tmp = tempfile::tempdir().unwrap();
    soc2_evidence_core::testing::assert_verdict_rule(&config, "2026-01-01..2026-06-30", tmp.path())
        .await;
}
