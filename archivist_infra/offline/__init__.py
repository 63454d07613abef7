"""Run the real program offline through Pulumi's mock engine: render, graph, capacity."""
