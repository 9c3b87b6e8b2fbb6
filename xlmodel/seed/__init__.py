"""The seed scripts' object API (SoCConfig, PerformanceModel, ...): thin views on the engine."""
