"""Measurements that make the recurrent trade-offs visible: gradient flow through time,
memory over distance, and speed against sequence length (`nlpkit diagnose ...`)."""
