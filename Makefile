# Developer shortcuts; each goes through ./ov, which sets up what is missing.
.PHONY: run test lint stop format readme docs

run:
	./ov run

test:
	./ov test

lint:
	./ov lint

format:
	./ov lint --fix

# Each addon's README.rst from its readme/ fragments.
readme:
	./ov readme

# The documentation checks: README.rst up to date with readme/, every README.rst
# renders in Apps, no broken code fence and no dead relative link in Markdown.
docs:
	./ov readme --check
	./ov test tests/test_docs.py tests/test_addon_descriptions.py

stop:
	./ov stop
