//! Builds the application: database pool, shared state, middleware and routes, on a listener it
//! binds itself (tests bind port 0).

use crate::ai::AiRuntime;
use crate::crypto::Sealer;
use crate::providers::ai::net::{AiHttp, Policy};
use crate::{
    auth::tokens::JwtKeys,
    config::Settings,
    error::{error_middleware, ApiError},
    extract,
    providers::mail::{Mailer, SmtpMailer},
    routes,
    telemetry::{access_log, RequestSpan},
};
use actix_web::{
    dev::Server,
    middleware::{from_fn, Compress},
    web, App, HttpServer,
};
use secrecy::ExposeSecret;
use sqlx::{postgres::PgPoolOptions, PgPool};
use std::{net::TcpListener, sync::Arc, time::Duration};
use tracing_actix_web::TracingLogger;

/// What every handler can reach.
pub struct AppState {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    /// Aura's own email, when an SMTP server is configured.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// AI providers' HTTP client, the key sealer and per-organization limits.
    pub ai: Arc<AiRuntime>,
    /// Opens and clicks of sent email, written in batches.
    pub events: routes::public::EventSink,
    /// Signs and checks the links inside sent email (the key is derived once).
    pub links: crate::delivery::tokens::Signer,
    /// The time business rules see (enrollment, ramp-up); tests set it.
    pub clock: crate::clock::Clock,
    /// The Content-Security-Policy of the web app's pages (with the hashes of the built app's
    /// inline loader).
    pub page_policy: String,
}

/// A pool that connects on first use, with statement and acquire timeouts.
pub fn pool(settings: &Settings) -> anyhow::Result<PgPool> {
    let options: sqlx::postgres::PgConnectOptions = settings
        .database_url()
        .parse()
        .map_err(|e| anyhow::anyhow!("DATABASE_URL is not a valid PostgreSQL address: {e}"))?;
    let options = options.options([(
        "statement_timeout",
        format!("{}s", settings.request_timeout_secs),
    )]);
    Ok(PgPoolOptions::new()
        .max_connections(settings.db_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options))
}

/// The AI machinery for these settings.
pub fn ai_runtime(settings: &Settings) -> anyhow::Result<AiRuntime> {
    let http = AiHttp::new(Policy {
        network: settings.ai_network.clone(),
        timeout: Duration::from_secs(settings.ai_timeout_secs.max(1)),
        max_attempts: settings.ai_max_attempts.max(1),
        max_retry_after: Duration::from_secs(settings.ai_max_retry_after_secs),
        first_backoff: Duration::from_millis(500),
    })?;
    Ok(AiRuntime::new(
        http,
        Arc::new(Sealer::from_settings(settings)),
        settings.ai_concurrency,
    ))
}

/// The longest a stopping server waits for its opens and clicks to be written.
const DRAIN_EVENTS: Duration = Duration::from_secs(30);

pub struct Application {
    port: u16,
    server: Server,
    ai: Arc<AiRuntime>,
    /// Ends once every open and click the server took is written (after the server stops).
    events_written: tokio::task::JoinHandle<()>,
}

impl Application {
    pub fn build(settings: Settings, pool: PgPool) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, pool, crate::clock::Clock::system())
    }

    /// The application with the clock its business rules read (tests pass one they set).
    pub fn build_with_clock(
        settings: Settings,
        pool: PgPool,
        clock: crate::clock::Clock,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {} (AURA_BIND): {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let mailer: Option<Arc<dyn Mailer>> = match &settings.smtp_url {
            Some(url) => Some(Arc::new(SmtpMailer::new(
                url.expose_secret(),
                &settings.mail_from,
            )?)),
            None => None,
        };
        let ai = Arc::new(ai_runtime(&settings)?);
        let (events, events_written) =
            routes::public::EventSink::start(pool.clone(), settings.tracking_buffer);
        let index_html =
            std::fs::read_to_string(settings.static_dir.join("index.html")).unwrap_or_default();
        let state = web::Data::new(AppState {
            page_policy: routes::web::page_policy(&index_html),
            events,
            links: crate::delivery::tokens::Signer::from_settings(&settings),
            mailer,
            clock,
            ai: ai.clone(),
            jwt: JwtKeys::new(&settings.secret_key, settings.access_token_ttl_secs),
            settings: Arc::new(settings.clone()),
            pool,
        });
        let static_dir = settings.static_dir.clone();
        if !static_dir.join("index.html").exists() {
            tracing::warn!(dir = %static_dir.display(), "the web app is not built; serving the API only");
        }
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(Compress::default())
                .wrap(from_fn(routes::web::cache_headers))
                .wrap(from_fn(error_middleware))
                // Outside the error shaping, so error answers carry the headers too.
                .wrap(from_fn(routes::web::security_headers))
                .wrap(from_fn(access_log))
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(extract::path_error))
                .app_data(web::QueryConfig::default().error_handler(extract::query_error))
                .configure(|cfg| routes::root().configure(cfg))
                .service(
                    web::scope("/api/v1")
                        .configure(routes::api_v1)
                        .default_service(web::to(|| async {
                            Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
                        })),
                )
                .service(
                    actix_files::Files::new("/", &static_dir)
                        .index_file("index.html")
                        .default_handler(web::to(routes::web::fallback)),
                )
        })
        .client_request_timeout(Duration::from_secs(10))
        .keep_alive(Duration::from_secs(75))
        .shutdown_timeout(settings.request_timeout_secs)
        .listen(listener)?;
        if settings.http_workers > 0 {
            server = server.workers(settings.http_workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            ai,
            events_written,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The AI machinery the handlers use (workers of the same process share its limits).
    pub fn ai(&self) -> Arc<AiRuntime> {
        self.ai.clone()
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (graceful shutdown) and
    /// writes the opens and clicks still waiting in memory (for at most [`DRAIN_EVENTS`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if tokio::time::timeout(DRAIN_EVENTS, self.events_written)
            .await
            .is_err()
        {
            tracing::warn!(
                "stopping with tracking events not yet written: the database is too slow"
            );
        }
        served
    }

    /// The server's handle, for stopping it from a test.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}
