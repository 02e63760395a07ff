//! Integration tests, built into one binary (ripgrep's layout): each module drives one
//! stage or subcommand end to end.

mod approve;
mod check;
mod ci_flow;
mod cli;
mod corpus;
mod fixers;
mod github;
mod heal;
mod images;
mod laptop;
mod layering;
mod llm_cassette;
mod local_llm;
mod localise;
mod other_ci;
mod publish;
mod readme;
mod regression;
mod run;
mod sandbox;
mod tally;
mod web;
mod wording;
