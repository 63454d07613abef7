"""The public entry: routes of the two HTTP services, the Gateway (or Ingress) that carries them,
and everything a fresh cluster needs to serve it over HTTPS (controller, certificate, address, DNS)."""
