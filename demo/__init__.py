"""The bundled demo: generated multilingual reviews and posts about three fictional brands, with known ground truth,
served on 127.0.0.1 in the real formats the crawlers read.

``demo.generate.generate(seed, scale)`` makes the content and its truth; ``demo.server.serving(content)`` serves
it; ``demo.config.demo_config(base_url)`` is examples/demo/onps.toml pointed at that server; ``demo.truth.load``
reads a saved truth back.
"""
