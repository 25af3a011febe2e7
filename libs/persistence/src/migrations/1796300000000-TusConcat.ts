import { MigrationInterface, QueryRunner } from "typeorm";

/** The tus Upload-Concat an upload was created with (`partial` or `final;<urls>`), which its HEAD echoes. */
export class TusConcat1796300000000 implements MigrationInterface {
    name = 'TusConcat1796300000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "uploads" ADD "tus_concat" text`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "uploads" DROP COLUMN "tus_concat"`);
    }

}
