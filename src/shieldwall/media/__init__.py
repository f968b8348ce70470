"""Media: safe decoding of content into pixels, with size and pixel limits."""
