//! `aura`: serve the API and web app, run workers, migrate, seed demo data, print the OpenAPI spec.

use aura_api::{config, seed, startup, state, telemetry, workers, MIGRATOR};
use std::{process::ExitCode, sync::Arc};

const USAGE: &str = "usage: aura <command>

commands:
  serve [--no-workers]   serve the API under /api/v1 and the web app at / (and run the workers)
  worker                 run only the background workers
  migrate                apply database migrations
  seed-demo              create the demo organization (idempotent) and print its login
  openapi                print the OpenAPI document (YAML)

Configuration comes from the environment; see .env.example.";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(!args.iter().any(|a| a == "--no-workers"), true).await,
        Some("worker") => serve(true, false).await,
        Some("migrate") => migrate().await,
        Some("seed-demo") => seed_demo().await,
        Some("openapi") => aura_api::routes::openapi::yaml().map(|y| print!("{y}")),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on, with the cause chain.
            eprintln!("aura: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn settings() -> anyhow::Result<config::Settings> {
    let settings = config::Settings::from_env()?;
    telemetry::init(settings.log_format, &settings.log_filter);
    Ok(settings)
}

async fn serve(with_workers: bool, with_http: bool) -> anyhow::Result<()> {
    let settings = settings()?;
    let pool = state::pool(&settings)?;
    let shared = Arc::new(settings.clone());
    if !with_http {
        tracing::info!("running workers");
        let sealer = Arc::new(settings.sealer());
        let ai = Arc::new(state::ai_runtime(&settings, sealer.clone())?);
        tokio::select! {
            () = workers::run(pool, shared, ai, sealer) => {}
            () = shutdown_signal() => tracing::info!("stopping"),
        }
        return Ok(());
    }
    let app = startup::Application::build(settings.clone(), pool.clone())?;
    tracing::info!(address = %settings.public_url, port = app.port(), "Aura is listening");
    if with_workers {
        let (ai, sealer) = (app.ai(), app.sealer());
        tokio::select! {
            r = app.run_until_stopped() => r?,
            () = workers::run(pool, shared, ai, sealer) => {}
        }
    } else {
        app.run_until_stopped().await?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn connect() -> anyhow::Result<sqlx::PgPool> {
    let url = config::database_url_from_env();
    sqlx::PgPool::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database (DATABASE_URL): {e}"))
}

async fn migrate() -> anyhow::Result<()> {
    let pool = connect().await?;
    MIGRATOR.run(&pool).await?;
    println!("migrations applied");
    Ok(())
}

async fn seed_demo() -> anyhow::Result<()> {
    let pool = connect().await?;
    let login = seed::seed_demo(&pool).await?;
    let what = if login.created {
        "created"
    } else {
        "already present"
    };
    println!("Demo organization \"{}\" {what}.", seed::DEMO_ORG);
    println!(
        "  Log in with  email: {}   password: {}",
        login.email, login.password
    );
    Ok(())
}
