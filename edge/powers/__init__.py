"""The village power list (村级小微权力清单): areas and powers as data, pages and flow charts."""
