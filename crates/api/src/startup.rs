//! Builds the application: database pool, shared state, middleware and routes, on a listener it
//! binds itself (tests bind port 0).

use crate::ai::AiRuntime;
use crate::state::{ai_runtime, AppState};
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
use sqlx::PgPool;
use std::{net::TcpListener, sync::Arc, time::Duration};
use tracing_actix_web::TracingLogger;

/// The longest a stopping server waits for its opens and clicks to be written.
const DRAIN_EVENTS: Duration = Duration::from_secs(30);

pub struct Application {
    port: u16,
    server: Server,
    ai: Arc<AiRuntime>,
    sealer: Arc<crate::crypto::Sealer>,
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
        let sealer = Arc::new(settings.sealer());
        let ai = Arc::new(ai_runtime(&settings, sealer.clone())?);
        let sealer_for_workers = sealer.clone();
        let (events, events_written) =
            crate::workers::events::EventSink::start(pool.clone(), settings.tracking_buffer);
        let index_html =
            std::fs::read_to_string(settings.static_dir.join("index.html")).unwrap_or_default();
        let state = web::Data::new(AppState {
            twilio: settings.twilio()?,
            page_policy: routes::web::page_policy(&index_html),
            events,
            links: settings.link_signer(),
            mailer,
            clock,
            sealer,
            ai: ai.clone(),
            jwt: JwtKeys::new(&settings.secret_key, settings.access_token_ttl_secs),
            settings: Arc::new(settings.clone()),
            pool,
        });
        let trusted_proxies = settings.trusted_proxies.clone();
        let precompressed = routes::web::Precompressed::scan(&settings.static_dir);
        let static_dir = settings.static_dir.clone();
        if !static_dir.join("index.html").exists() {
            tracing::warn!(dir = %static_dir.display(), "the web app is not built; serving the API only");
        }
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(Compress::default())
                .wrap(from_fn(routes::web::precompressed))
                .wrap(from_fn(routes::web::cache_headers))
                .wrap(from_fn(error_middleware))
                // Outside the error shaping, so error answers carry the headers too.
                .wrap(from_fn(routes::web::security_headers))
                .wrap(from_fn(access_log))
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(state.clone())
                .app_data(trusted_proxies.clone())
                .app_data(precompressed.clone())
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
            sealer: sealer_for_workers,
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

    /// The sealer the handlers use.
    pub fn sealer(&self) -> Arc<crate::crypto::Sealer> {
        self.sealer.clone()
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
