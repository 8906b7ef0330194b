//! A signed-in browser: the provider's tokens, kept by the hub (the browser holds only a cookie).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_session")]
pub struct Model {
    /// SHA-256 (hex) of the cookie's secret.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub subject: String,
    /// The person's name as the provider gives it, for the pages' header.
    pub name: String,
    pub department: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// The last ID token (kept for the provider's back-channel needs; never sent in a URL).
    pub id_token: Option<String>,
    pub access_expires_at: DateTimeUtc,
    /// When the session ends whatever renewals happen.
    pub expires_at: DateTimeUtc,
    /// The token every state-changing request of the pages must carry (`x-csrf-token`).
    pub csrf: String,
    /// Made by the development "sign in as …" page: renewed by signing a new token, not by a provider.
    pub development: bool,
    pub created_at: DateTimeUtc,
    pub renewed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
