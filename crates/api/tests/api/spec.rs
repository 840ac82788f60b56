/// `openapi.yaml` is generated from the code; it must be exactly what `aura openapi` prints.
#[test]
fn committed_spec_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = aura_api::openapi::yaml().unwrap();
    assert!(
        committed == generated,
        "openapi.yaml differs from the code's OpenAPI document; regenerate it with `make openapi` and commit it"
    );
}

#[test]
fn every_operation_documents_its_responses_and_errors() {
    let doc = aura_api::openapi::document();
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
