//! Persisted documents. Trusted documents: an allow-list of operations, by the
//! SHA-256 of their text, loaded from a manifest file at start; with `documents.only_trusted` nothing
//! else runs. Automatic Persisted Queries (Apollo's protocol): a client sends the hash alone, and the
//! text only when the hub answers `PERSISTED_QUERY_NOT_FOUND`; each replica keeps the texts it was sent
//! in a bounded memo. A request names its document by `documentId: "sha256:<hex>"` (the GraphQL-over-HTTP
//! proposal) or by `extensions.persistedQuery.sha256Hash` (Apollo); both go through [`Documents::resolve`].

use crate::config::DocumentSettings;
use crate::service::memo::Memo;
use async_graphql::Request;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// How many APQ texts a replica keeps, and the longest it keeps: together they bound the memory an
/// anonymous sender of odd queries can take (about 32 MiB).
const APQ_ENTRIES: usize = 1024;
const APQ_MAX_BYTES: usize = 32 * 1024;

/// Why a request's document cannot run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// APQ: the hash is not known here; the client resends it with the text.
    NotFound,
    /// The document is not on the allow-list (and only trusted documents run).
    NotInList,
    /// The text's hash is not the one the request names.
    HashMismatch,
    /// The request names its document in a way that cannot be read.
    Malformed(&'static str),
}

impl Refusal {
    /// `extensions.code`, as Apollo clients and routers know them.
    pub fn code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            Refusal::NotFound => ErrorCode::PersistedQueryNotFound,
            Refusal::NotInList => ErrorCode::PersistedQueryNotInList,
            Refusal::HashMismatch => ErrorCode::PersistedQueryHashMismatch,
            Refusal::Malformed(_) => ErrorCode::BadUserInput,
        }
    }

    /// The message; `PersistedQueryNotFound` verbatim, which Apollo Client's link looks for.
    pub fn message(&self) -> String {
        match self {
            Refusal::NotFound => "PersistedQueryNotFound".to_owned(),
            Refusal::NotInList => {
                "only trusted documents run here (documents.only_trusted): send the \
                id of a document in the manifest, or ask the hub's operators to add yours"
                    .to_owned()
            }
            Refusal::HashMismatch => {
                "the document's SHA-256 is not the hash the request names".to_owned()
            }
            Refusal::Malformed(what) => (*what).to_owned(),
        }
    }
}

/// The allow-list and the APQ memo of one process.
pub struct Documents {
    trusted: HashMap<String, Arc<str>>,
    only_trusted: bool,
    apq: Option<Memo<String, Arc<str>>>,
}

impl Documents {
    /// Reads the manifest named in the settings, if any. A manifest whose ids are not the SHA-256 of
    /// their documents is refused: a wrong id would let one text run under another's name.
    pub fn load(settings: &DocumentSettings) -> Result<Documents, String> {
        let mut trusted = HashMap::new();
        if let Some(path) = &settings.trusted {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("documents.trusted: cannot read {}: {e}", path.display()))?;
            for (id, body) in parse_manifest(&text)
                .map_err(|e| format!("documents.trusted ({}): {e}", path.display()))?
            {
                let hash = hash_of(&body);
                if id.as_deref().is_some_and(|id| id != hash) {
                    return Err(format!(
                        "documents.trusted ({}): the id {} is not the SHA-256 of its document ({hash})",
                        path.display(),
                        id.unwrap_or_default()
                    ));
                }
                trusted.insert(hash, Arc::from(body));
            }
        }
        if settings.only_trusted && trusted.is_empty() {
            return Err(
                "documents.only_trusted is set but documents.trusted names no manifest with documents: \
                 nothing could run"
                    .to_owned(),
            );
        }
        Ok(Documents {
            trusted,
            only_trusted: settings.only_trusted,
            apq: (settings.apq && !settings.only_trusted).then(|| Memo::bounded(APQ_ENTRIES)),
        })
    }

    /// How many documents the allow-list holds.
    pub fn trusted_count(&self) -> usize {
        self.trusted.len()
    }

    /// Fills in the text of a request that names its document by hash, and checks the allow-list.
    /// `schema_only` requests (a gateway's `_service { sdl }`) pass the allow-list: they read no data.
    pub fn resolve(
        &self,
        request: &mut Request,
        schema_only: impl Fn(&str) -> bool,
    ) -> Result<(), Refusal> {
        let named = requested_hash(request)?;
        match named {
            Some(hash) if request.query.is_empty() => {
                let found = self
                    .trusted
                    .get(&hash)
                    .cloned()
                    .or_else(|| self.apq.as_ref().and_then(|apq| apq.get(&hash)));
                match found {
                    Some(text) => request.query = text.to_string(),
                    None if self.only_trusted => return Err(Refusal::NotInList),
                    None if self.apq.is_some() => return Err(Refusal::NotFound),
                    None => return Err(Refusal::NotInList),
                }
            }
            Some(hash) => {
                if hash_of(&request.query) != hash {
                    return Err(Refusal::HashMismatch);
                }
                if self.only_trusted && !self.trusted.contains_key(&hash) {
                    return Err(Refusal::NotInList);
                }
                if let Some(apq) = &self.apq
                    && request.query.len() <= APQ_MAX_BYTES
                    && !self.trusted.contains_key(&hash)
                {
                    apq.put(hash, Arc::from(request.query.as_str()));
                }
            }
            None if self.only_trusted
                && !self.trusted.contains_key(&hash_of(&request.query))
                && !schema_only(&request.query) =>
            {
                return Err(Refusal::NotInList);
            }
            None => {}
        }
        Ok(())
    }
}

/// Whether a document asks for `_service { sdl }` (and `__typename`) only: the schema, no data.
pub fn reads_only_the_sdl(query: &str) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    let mut operations = document.operations.iter();
    let (Some((_, operation)), None) = (operations.next(), operations.next()) else {
        return false;
    };
    operation.node.ty == async_graphql::parser::types::OperationType::Query
        && document.fragments.is_empty()
        && operation.node.selection_set.node.items.iter().all(|s| {
            matches!(&s.node, async_graphql::parser::types::Selection::Field(f)
                if matches!(f.node.name.node.as_str(), "_service" | "__typename"))
        })
}

/// With `documents.only_trusted`, the schema refuses every untrusted document whichever way it came —
/// HTTP (where the handler has already filled in the text and refused with a 400) or a WebSocket
/// session, which reaches the schema without the HTTP handler.
pub struct OnlyTrusted(pub Arc<Documents>);

impl async_graphql::extensions::ExtensionFactory for OnlyTrusted {
    fn create(&self) -> Arc<dyn async_graphql::extensions::Extension> {
        Arc::new(OnlyTrustedCheck(self.0.clone()))
    }
}

struct OnlyTrustedCheck(Arc<Documents>);

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for OnlyTrustedCheck {
    async fn prepare_request(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        mut request: Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> async_graphql::ServerResult<Request> {
        if let Err(refusal) = self.0.resolve(&mut request, reads_only_the_sdl) {
            let mut error = async_graphql::ServerError::new(refusal.message(), None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", refusal.code().as_str());
            error.extensions = Some(extensions);
            return Err(error);
        }
        next.run(ctx, request).await
    }
}

/// Lower-case hex SHA-256 of a document's exact text.
pub fn hash_of(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The hash a request names, from `extensions.persistedQuery` (version 1).
fn requested_hash(request: &Request) -> Result<Option<String>, Refusal> {
    use async_graphql::Value;
    let Some(persisted) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let Value::Object(fields) = persisted else {
        return Err(Refusal::Malformed(
            "extensions.persistedQuery must be an object {\"version\": 1, \"sha256Hash\": …}",
        ));
    };
    if fields.get("version") != Some(&Value::from(1)) {
        return Err(Refusal::Malformed(
            "extensions.persistedQuery.version must be 1",
        ));
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(Refusal::Malformed(
            "extensions.persistedQuery.sha256Hash must be 64 hex digits",
        )),
    }
}

/// Turns a top-level `documentId: "sha256:<hex>"` into the APQ form, so one path resolves both.
pub fn adopt_document_id(request: &mut Request, document_id: &str) -> Result<(), Refusal> {
    let Some(hash) = document_id.strip_prefix("sha256:") else {
        return Err(Refusal::Malformed(
            "documentId must be \"sha256:\" followed by the document's SHA-256 in hex",
        ));
    };
    let mut fields = async_graphql::indexmap::IndexMap::new();
    fields.insert(
        async_graphql::Name::new("version"),
        async_graphql::Value::from(1),
    );
    fields.insert(
        async_graphql::Name::new("sha256Hash"),
        async_graphql::Value::from(hash),
    );
    request.extensions.0.insert(
        "persistedQuery".to_owned(),
        async_graphql::Value::Object(fields),
    );
    Ok(())
}

/// The documents of a manifest with the ids it gives them. Three shapes are read: Apollo's persisted
/// query manifest (`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}`), a
/// map of id to text (GraphQL Codegen's client preset, Relay), and a list of texts.
fn parse_manifest(text: &str) -> Result<Vec<(Option<String>, String)>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let strip = |id: &str| {
        id.strip_prefix("sha256:")
            .unwrap_or(id)
            .to_ascii_lowercase()
    };
    match value {
        serde_json::Value::Object(map) if map.contains_key("operations") => map["operations"]
            .as_array()
            .ok_or("`operations` must be a list")?
            .iter()
            .map(|op| {
                let body = op["body"]
                    .as_str()
                    .ok_or("every operation needs a `body` (its text)")?;
                Ok((op["id"].as_str().map(strip), body.to_owned()))
            })
            .collect(),
        serde_json::Value::Object(map) => map
            .into_iter()
            .map(|(id, body)| match body {
                serde_json::Value::String(body) => Ok((Some(strip(&id)), body)),
                _ => Err(format!("the document of {id} must be a string")),
            })
            .collect(),
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(body) => Ok((None, body)),
                _ => Err("a list manifest holds the documents' texts".to_owned()),
            })
            .collect(),
        _ => Err("expected a manifest object or a list of documents".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents(only_trusted: bool, manifest: Option<&str>) -> Documents {
        let path = manifest.map(|text| {
            let path = std::env::temp_dir().join(format!("manifest-{}.json", uuid::Uuid::new_v4()));
            std::fs::write(&path, text).unwrap();
            path
        });
        Documents::load(&DocumentSettings {
            trusted: path,
            only_trusted,
            apq: true,
        })
        .unwrap()
    }

    fn by_hash(hash: &str) -> Request {
        let mut r = Request::new("");
        adopt_document_id(&mut r, &format!("sha256:{hash}")).unwrap();
        r
    }

    const Q: &str = "{ domains { code } }";

    #[test]
    fn apq_asks_for_the_text_once_then_runs_by_hash() {
        let docs = documents(false, None);
        let hash = hash_of(Q);
        assert_eq!(
            docs.resolve(&mut by_hash(&hash), |_| false),
            Err(Refusal::NotFound)
        );
        let mut with_text = by_hash(&hash);
        with_text.query = Q.to_owned();
        assert_eq!(docs.resolve(&mut with_text, |_| false), Ok(()));
        let mut again = by_hash(&hash);
        assert_eq!(docs.resolve(&mut again, |_| false), Ok(()));
        assert_eq!(again.query, Q);
        let mut lying = by_hash(&hash);
        lying.query = "{ me { subject } }".to_owned();
        assert_eq!(
            docs.resolve(&mut lying, |_| false),
            Err(Refusal::HashMismatch)
        );
    }

    #[test]
    fn only_trusted_runs_the_manifest_and_nothing_else() {
        let manifest = serde_json::json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": hash_of(Q), "name": "Domains", "type": "query", "body": Q }]
        });
        let docs = documents(true, Some(&manifest.to_string()));
        assert_eq!(docs.trusted_count(), 1);
        let mut known = by_hash(&hash_of(Q));
        assert_eq!(docs.resolve(&mut known, |_| false), Ok(()));
        assert_eq!(known.query, Q);
        assert_eq!(
            docs.resolve(&mut Request::new(Q), |_| false),
            Ok(()),
            "the same text, sent whole"
        );
        let other = "{ me { subject } }";
        assert_eq!(
            docs.resolve(&mut Request::new(other), |_| false),
            Err(Refusal::NotInList)
        );
        assert_eq!(
            docs.resolve(&mut by_hash(&hash_of(other)), |_| false),
            Err(Refusal::NotInList),
            "no APQ registration around the list"
        );
        let mut registering = by_hash(&hash_of(other));
        registering.query = other.to_owned();
        assert_eq!(
            docs.resolve(&mut registering, |_| false),
            Err(Refusal::NotInList)
        );
        assert_eq!(
            docs.resolve(&mut Request::new("{ _service { sdl } }"), |q| q
                .contains("_service")),
            Ok(())
        );
    }

    #[test]
    fn a_manifest_whose_id_is_not_the_hash_is_refused() {
        let path = std::env::temp_dir().join(format!("manifest-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, serde_json::json!({ "sha256:0000": Q }).to_string()).unwrap();
        let error = Documents::load(&DocumentSettings {
            trusted: Some(path),
            only_trusted: false,
            apq: true,
        })
        .err()
        .unwrap();
        assert!(error.contains("is not the SHA-256"), "{error}");
    }
}
