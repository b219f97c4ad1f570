# Developer shortcuts; each goes through ./ov, which sets up what is missing.
.PHONY: run test lint stop format

run:
	./ov run

test:
	./ov test

lint:
	./ov lint

format:
	./ov lint --fix

stop:
	./ov stop
