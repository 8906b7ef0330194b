//! Sessions of the hub's pages (issue 20): the backend-for-frontend keeps the provider's tokens here and
//! gives the browser only an HttpOnly cookie. A session's key is the SHA-256 of its cookie (a leaked
//! table row cannot be replayed as a cookie); sign-ins under way are kept the same way until their
//! callback, so any replica can finish one that another began.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("web_session")
                    .col(string("id").primary_key())
                    .col(string("subject"))
                    .col(string("name"))
                    .col(string("department"))
                    .col(text("access_token"))
                    .col(text_null("refresh_token"))
                    .col(text_null("id_token"))
                    .col(timestamp_with_time_zone("access_expires_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(string("csrf"))
                    .col(boolean("development"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("renewed_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_web_session_expires_at")
                    .table("web_session")
                    .col("expires_at")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("signin_flow")
                    .col(string("id").primary_key())
                    .col(string("state"))
                    .col(string("nonce"))
                    .col(string("verifier"))
                    .col(string("return_to"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("signin_flow").take())
            .await?;
        manager
            .drop_table(Table::drop().table("web_session").take())
            .await
    }
}
