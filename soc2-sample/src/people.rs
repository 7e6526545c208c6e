//! The people of the sample organisation, with their identity in each system, so the Okta,
//! GitHub and Jira samples tell one consistent story.

/// One person of Acme Corp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    /// Display name.
    pub name: &'static str,
    /// Okta login and e-mail.
    pub email: &'static str,
    /// Okta user id (20 characters, `00u…`).
    pub okta_id: &'static str,
    /// GitHub login.
    pub github: &'static str,
    /// Jira Cloud account id.
    pub jira_account: &'static str,
    /// Department.
    pub department: &'static str,
}

/// Everyone in the sample organisation. What each one gets wrong (if anything) is decided by
/// the per-system samples; the names here only keep identities consistent across systems.
pub const PEOPLE: &[Person] = &[
    Person {
        name: "Alice Nguyen",
        email: "alice@acme.example",
        okta_id: "00u1alice00000000001",
        github: "alice-acme",
        jira_account: "712020:0a1b2c3d-alice",
        department: "Platform",
    },
    Person {
        name: "Bob Okafor",
        email: "bob@acme.example",
        okta_id: "00u1bob0000000000002",
        github: "bob-okafor",
        jira_account: "712020:0a1b2c3d-bob",
        department: "Platform",
    },
    Person {
        name: "Carol Schmidt",
        email: "carol@acme.example",
        okta_id: "00u1carol00000000003",
        github: "carolschmidt",
        jira_account: "712020:0a1b2c3d-carol",
        department: "Security",
    },
    Person {
        name: "Dev Patel",
        email: "dev@acme.example",
        okta_id: "00u1dev0000000000004",
        github: "devpatel",
        jira_account: "712020:0a1b2c3d-dev",
        department: "Engineering",
    },
    Person {
        name: "Erin Walsh",
        email: "erin@acme.example",
        okta_id: "00u1erin000000000005",
        github: "erinw",
        jira_account: "712020:0a1b2c3d-erin",
        department: "Engineering",
    },
    Person {
        name: "Frank Moreau",
        email: "frank@acme.example",
        okta_id: "00u1frank00000000006",
        github: "fmoreau",
        jira_account: "712020:0a1b2c3d-frank",
        department: "Sales",
    },
    Person {
        name: "Grace Kim",
        email: "grace@acme.example",
        okta_id: "00u1grace00000000007",
        github: "gracek",
        jira_account: "712020:0a1b2c3d-grace",
        department: "Finance",
    },
    Person {
        name: "Hiro Tanaka",
        email: "hiro@acme.example",
        okta_id: "00u1hiro000000000008",
        github: "hirot",
        jira_account: "712020:0a1b2c3d-hiro",
        department: "Engineering",
    },
    Person {
        name: "Ines Duarte",
        email: "ines@acme.example",
        okta_id: "00u1ines000000000009",
        github: "ines-d",
        jira_account: "712020:0a1b2c3d-ines",
        department: "Support",
    },
    Person {
        name: "Jonas Berg",
        email: "jonas@acme.example",
        okta_id: "00u1jonas00000000010",
        github: "jberg",
        jira_account: "712020:0a1b2c3d-jonas",
        department: "Engineering",
    },
    Person {
        name: "Kemi Adeyemi",
        email: "kemi@acme.example",
        okta_id: "00u1kemi000000000011",
        github: "kemi-a",
        jira_account: "712020:0a1b2c3d-kemi",
        department: "People",
    },
    Person {
        name: "Liam O'Brien",
        email: "liam@acme.example",
        okta_id: "00u1liam000000000012",
        github: "liamob",
        jira_account: "712020:0a1b2c3d-liam",
        department: "Engineering",
    },
];

/// Looks a person up by first name (case-insensitive), for readable sample definitions.
pub fn by_first_name(first: &str) -> Option<&'static Person> {
    PEOPLE.iter().find(|p| {
        p.name
            .split_whitespace()
            .next()
            .is_some_and(|f| f.eq_ignore_ascii_case(first))
    })
}
