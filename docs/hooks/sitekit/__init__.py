"""Helpers the pages call while the site builds: figures as inline SVG, LaTeX blocks, Markdown tables."""
