//! `selfheal sandbox build`: builds the sandbox images selfheal needs on a machine where no
//! registry answers (the Debian base from the recipe in the binary, then language images).

use std::io::IsTerminal;

use serde::Serialize;

use crate::error::Error;
use crate::sandbox::{Engine, SandboxError, ensure_default, recipe};
use crate::validate::ValidateError;
use crate::validate::{Lang, detect_lang};

use super::args::{SandboxAction, SandboxArgs};
use super::{Ctx, print_stdout};

#[derive(Serialize)]
struct BuildReport {
    schema: u32,
    base: String,
    base_built: bool,
    images: Vec<LangImage>,
}

#[derive(Serialize)]
struct LangImage {
    lang: Lang,
    image: String,
}

/// Runs `selfheal sandbox …`.
pub fn run(ctx: &Ctx, args: &SandboxArgs) -> Result<i32, Error> {
    match &args.action {
        SandboxAction::Build(build) => {
            let langs = if build.base_only {
                Vec::new()
            } else if build.all {
                Lang::ALL.to_vec()
            } else if build.lang.is_empty() {
                detect_lang(&ctx.repo_root).into_iter().collect()
            } else {
                build.lang.clone()
            };
            let report = build_images(ctx, &langs)?;
            render(ctx, &report)?;
            Ok(crate::error::exit::SUCCESS)
        }
    }
}

fn build_images(ctx: &Ctx, langs: &[Lang]) -> Result<BuildReport, Error> {
    let rt = super::runtime()?;
    let docker_host = ctx.config.env.docker_host.clone();
    let quiet = ctx.json;
    let progress = move |line: &str| {
        if !quiet || std::io::stderr().is_terminal() {
            eprintln!("  {line}");
        }
    };
    rt.block_on(async {
        let engine = Engine::connect(docker_host.as_deref())
            .await
            .map_err(sandbox_error)?;
        let base = recipe::build_base(&engine, &progress)
            .await
            .map_err(sandbox_error)?;
        let mut images = Vec::new();
        for &lang in langs {
            let image = ensure_default(&engine, lang, &progress)
                .await
                .map_err(sandbox_error)?;
            images.push(LangImage { lang, image });
        }
        Ok(BuildReport {
            schema: crate::report::json::SCHEMA,
            base: base.tag,
            base_built: base.built,
            images,
        })
    })
}

fn sandbox_error(e: SandboxError) -> Error {
    ValidateError::from(e).into()
}

fn render(ctx: &Ctx, report: &BuildReport) -> Result<(), Error> {
    if ctx.json {
        return print_stdout(&crate::report::json::to_string(report));
    }
    let verb = if report.base_built { "built" } else { "reused" };
    let mut text = format!("{verb} {} (tagged selfheal-base:latest)\n", report.base);
    for image in &report.images {
        text.push_str(&format!(
            "ready {} for {}\n",
            image.image,
            image.lang.name()
        ));
    }
    print_stdout(&text)
}
