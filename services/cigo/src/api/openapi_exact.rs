//! Makes the OpenAPI document exact where the annotations cannot say it (checked by
//! schemathesis in `.ci/run`). Applied to the generated document as JSON, in one place, so that
//! every endpoint gets the same treatment, including those added later:
//!
//! - every endpoint with a token may answer 401, 429 (rate limit) and 507 (`insufficient_storage`:
//!   a full disk; even a read writes its audit row), every `{numero}` 400
//!   (`invalid_path`: not a 64-bit integer), every endpoint with query parameters 400;
//! - query parameters: an empty value is accepted and ignored (HTML forms send empty fields), the
//!   paging bounds, and the enums of `stato` and `esito`;
//! - the upload: the body is not empty, the multipart form has a `file`, and the answers 408
//!   (slow client), 413, 415;
//! - the public documents (`/openapi.json`, `/schema/richiesta.xsd`, `/schema/richiesta-v2.xsd`, `/schema/esito.xsd`, `/metrics`) are listed.

use serde_json::{json, Value};

const ERROR: &str = "#/components/schemas/ErrorBody";

/// A file name `service::nome_file` accepts, as a pattern.
const NOME_FILE_PATTERN: &str =
    r"^(?!\.\.?$)[^/\\\s\x00-\x1f\x7f-\x9f]([^/\\\x00-\x1f\x7f-\x9f]*[^/\\\s\x00-\x1f\x7f-\x9f])?$";

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": ERROR}}}})
}

fn add_response(op: &mut Value, status: &str, description: &str) {
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses
            .entry(status)
            .or_insert_with(|| error(description));
    }
}

/// The document, made exact.
pub fn exact(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    let schemas: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                fix_operation(path, method, op, &schemas);
            }
        }
        let public = |description: &str, content_type: &str| {
            json!({"get": {
                "tags": ["operations"],
                "responses": {"200": {"description": description, "content": {content_type: {"schema": {"type": "string"}}}}}
            }})
        };
        paths
            .entry("/api/v1/schema/richiesta.xsd")
            .or_insert_with(|| public("The XSD of the tracciato, version 1 (urn:cigo:richiesta:1)", "application/xml"));
        paths
            .entry("/api/v1/schema/richiesta-v2.xsd")
            .or_insert_with(|| public("The XSD of the tracciato, version 2 (urn:cigo:richiesta:2)", "application/xml"));
        paths
            .entry("/api/v1/schema/esito.xsd")
            .or_insert_with(|| public("The XSD of the esito as XML (version 1)", "application/xml"));
        paths
            .entry("/metrics")
            .or_insert_with(|| public("Prometheus metrics", "text/plain"));
        paths.entry("/api/v1/openapi.json").or_insert_with(|| {
            json!({"get": {
                "tags": ["operations"],
                "responses": {"200": {"description": "This document", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }})
        });
    }
    doc
}

fn fix_operation(path: &str, method: &str, op: &mut Value, schemas: &[String]) {
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    if secured {
        add_response(op, "401", "Missing, expired, revoked or invalid token (`unauthorized`)");
        add_response(op, "429", "Rate limit of the intermediario (`rate_limited`), with Retry-After");
        add_response(
            op,
            "507",
            "`insufficient_storage`: a disk is full (database, blob store, spool); nothing was written, retry later",
        );
    }
    if path.contains("{numero}") {
        add_response(op, "400", "`invalid_path`: the numero is not a 64-bit integer");
    }
    let mut has_query = false;
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            let name = p["name"].as_str().unwrap_or("").to_string();
            match p["in"].as_str() {
                Some("query") => {
                    has_query = true;
                    fix_query_param(&name, p, schemas);
                }
                Some("path") if name == "codice" => {
                    // 32 letters of base32 once the group separators are left out, any case.
                    p["schema"] = json!({"type": "string", "pattern": "^[- ]*([A-Za-z2-7][- ]*){32}$"});
                }
                Some("path") if name == "tipo" => {
                    p["schema"] = json!({"type": "string", "enum": ["trasmissione", "consegna", "trasmissione.pdf", "consegna.pdf"]});
                }
                _ => {}
            }
        }
    }
    if has_query {
        add_response(op, "400", "`invalid_query`: a parameter out of range or not of its type");
    }
    if path == "/api/v1/richieste" && method == "post" {
        // (No minLength on the XML types: schemathesis wraps XML strings in an element.)
        op["requestBody"]["content"] = json!({
            "application/xml": {"schema": {"type": "string"}},
            "text/xml": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {
                "type": "object",
                "description": "The part `file` is the richiesta; other parts (forms add some) are ignored",
                "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,64}$"},
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary", "minLength": 1}}
            }}
        });
        add_response(op, "408", "`request_timeout`: the body came too slowly");
        add_response(op, "413", "`payload_too_large` or `gzip_bomb`");
        add_response(op, "415", "`unsupported_media_type` or `unsupported_content_encoding`");
        add_response(op, "429", "`too_many_concurrent_uploads` or `rate_limited`, with Retry-After");
    }
}

fn fix_query_param(name: &str, p: &mut Value, schemas: &[String]) {
    let has = |s: &str| schemas.iter().any(|x| x == s);
    let mut schema = p["schema"].take();
    match name {
        "page" => schema = json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
        "page_size" => schema = json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        "stato" if has("StatoRichiesta") => schema = json!({"$ref": "#/components/schemas/StatoRichiesta"}),
        "esito" if has("EsitoDomanda") => schema = json!({"$ref": "#/components/schemas/EsitoDomanda"}),
        // What `service::nome_file` accepts: 1 to 255 characters, no path, no control
        // characters, no blanks at either end (anything else is `invalid_nome_file`).
        "nome" => {
            schema = json!({
                "type": "string", "minLength": 1, "maxLength": 255,
                "pattern": NOME_FILE_PATTERN,
            })
        }
        _ => {}
    }
    if schema.is_null() {
        schema = json!({"type": "string"});
    }
    // `?x=` is the same as no `x` (HTML forms send empty fields).
    p["schema"] = json!({"anyOf": [schema, {"type": "string", "maxLength": 0}]});
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi;

    #[test]
    fn every_secured_operation_documents_401_429_and_507() {
        let doc = exact(crate::api::ApiDoc::openapi());
        let mut n = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                    for status in ["401", "429", "507"] {
                        assert!(op["responses"][status].is_object(), "{method} {path} {status}");
                    }
                    n += 1;
                }
                if path.contains("{numero}") {
                    assert!(op["responses"]["400"].is_object(), "{method} {path}");
                }
            }
        }
        assert!(n >= 9);
        assert!(doc["paths"]["/healthz"]["get"].get("parameters").is_none());
        let page = &doc["paths"]["/api/v1/richieste"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "page_size")
            .unwrap()["schema"];
        assert_eq!(page["anyOf"][0]["maximum"], 1000);
        assert_eq!(
            doc["paths"]["/api/v1/richieste"]["post"]["responses"]["408"]["content"]["application/json"]["schema"]
                ["$ref"],
            ERROR
        );
    }
}
