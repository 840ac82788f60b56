/// `openapi.yaml` is generated from the code; it must be exactly what `aura openapi` prints.
#[test]
fn committed_spec_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = aura_api::routes::openapi::yaml().unwrap();
    assert!(
        committed == generated,
        "openapi.yaml differs from the code's OpenAPI document; regenerate it with `make openapi` and commit it"
    );
}

#[test]
fn every_operation_documents_its_responses_and_errors() {
    let doc = aura_api::routes::openapi::document();
    for (path, item) in &doc.paths.paths {
        for (method, op) in crate::isolation::operations(item) {
            assert!(
                !op.responses.responses.is_empty(),
                "{method} {path} documents no response"
            );
            let tagged = op.tags.as_ref().is_some_and(|t| !t.is_empty());
            assert!(tagged, "{method} {path} has no tag");
            let secured = op.security.is_some();
            if secured {
                assert!(
                    op.responses.responses.contains_key("401"),
                    "{method} {path} needs auth but documents no 401"
                );
            }
            if op.request_body.is_some() {
                assert!(
                    op.responses.responses.contains_key("422") || path.ends_with("/preview"),
                    "{method} {path} takes a body but documents no 422"
                );
            }
        }
    }
}

/// The router and the spec describe the same operations, in both directions: a route missing
/// from the spec would escape the spec-driven isolation and bad-input walks, and an operation in
/// the spec that nothing answers would mislead integrators.
#[test]
fn the_router_and_the_spec_describe_the_same_operations() {
    use std::collections::BTreeSet;
    let routed: Vec<(String, String)> = aura_api::routes::operations()
        .into_iter()
        .map(|(m, p)| (m.as_str().to_lowercase(), p))
        .collect();
    let unique: BTreeSet<_> = routed.iter().cloned().collect();
    assert_eq!(unique.len(), routed.len(), "a route is registered twice");
    let doc = aura_api::routes::openapi::document();
    let documented: BTreeSet<(String, String)> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            crate::isolation::operations(item)
                .into_iter()
                .map(move |(m, _)| (m.as_str().to_lowercase(), path.clone()))
        })
        .collect();
    let undocumented: Vec<_> = unique.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&unique).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from the spec: {undocumented:?}; spec operations no route answers: {unrouted:?}"
    );
    assert!(unique.len() >= 128, "only {} operations", unique.len());
}

/// Integrators read Swagger UI and generate clients: every operation says what it is (summary)
/// and what it does (description).
#[test]
fn every_operation_has_a_summary_and_a_description() {
    let doc = aura_api::routes::openapi::document();
    let mut missing = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in crate::isolation::operations(item) {
            let has = |t: &Option<String>| t.as_deref().is_some_and(|t| !t.trim().is_empty());
            if !has(&op.summary) || !has(&op.description) {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "operations without a summary or a description: {missing:?}"
    );
}
