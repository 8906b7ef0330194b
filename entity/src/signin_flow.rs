//! A sign-in under way, between the redirect to the provider and its callback.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signin_flow")]
pub struct Model {
    /// SHA-256 (hex) of the browser's sign-in cookie: the callback must come from the browser that began.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub state: String,
    pub nonce: String,
    /// The PKCE verifier, which never leaves the hub.
    pub verifier: String,
    /// The page to return to (a path on the hub).
    pub return_to: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
