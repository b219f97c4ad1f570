"""./ov's code: one module per concern, standard library only (it installs everything else).

settings   paths, names, SetupError            system      commands, Debian packages, ports
python_env venv, pip, Odoo 19                  cluster     the private PostgreSQL cluster
odoo_run   Odoo command lines, installs        compat      ./ov test --odoo-compat
bench      ./ov bench                          cli         argparse and the other commands
"""
